package billing

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the package returns wraps one of them, so
// callers test the kind with errors.Is and never parse messages. Messages
// name billing ids and codes, never a patient id or name.
var (
	// ErrNotFound: no account, charge, invoice, payment, claim or
	// chargemaster item with that id or code exists.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the input breaks a rule of the operation. The message
	// names the field.
	ErrInvalid = errors.New("invalid")
	// ErrConflict: the write clashes with the stored state, such as a
	// stale version or an invoice that is no longer a draft.
	ErrConflict = errors.New("conflict")
)

// ErrCurrencyMismatch: two amounts of different currencies met, such as
// a EUR charge on a USD account. It wraps ErrInvalid.
var ErrCurrencyMismatch = fmt.Errorf("currency mismatch: %w", ErrInvalid)

// ErrUnknownCode: a charge names a code that the chargemaster does not
// price for its date. It wraps ErrInvalid.
var ErrUnknownCode = fmt.Errorf("unknown charge code: %w", ErrInvalid)

// ErrOverpayment: a payment or adjustment is larger than the balance it
// is applied to, and no explicit credit was allowed. It wraps ErrInvalid.
var ErrOverpayment = fmt.Errorf("amount exceeds balance: %w", ErrInvalid)

// ErrDuplicateRemittance: a remittance advice with the same payer and
// payment reference (TRN03 and TRN02 of an 835) was posted before. The
// database rejects the second post, concurrent ones included. It wraps
// ErrConflict.
var ErrDuplicateRemittance = fmt.Errorf("remittance advice posted before: %w", ErrConflict)

// ErrTransient: a concurrent transaction made this one fail, as a
// PostgreSQL deadlock or serialisation failure does. The service retries
// such transactions; when the retries run out the error reaches the
// caller and wraps ErrConflict.
var ErrTransient = fmt.Errorf("concurrent transaction: %w", ErrConflict)

func invalidf(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrInvalid)...)
}
