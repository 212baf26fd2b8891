package billing

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// PaymentParams posts money received.
type PaymentParams struct {
	AccountID string
	Amount    Money
	Payer     string
	Method    string
	Reference string
	// Received defaults to now.
	Received time.Time
	// Allocations apply the payment to invoices. When nil, the payment
	// is applied to the account's open invoices oldest first.
	Allocations []Allocation
	// AllowCredit keeps what is not allocated as account credit. Without
	// it, a payment larger than what it is applied to is rejected with
	// ErrOverpayment.
	AllowCredit bool
	ClaimID     string
	By          string
}

// PostPayment records a payment and posts it to the ledger: cash in,
// then each allocation from unapplied money to an invoice's receivable.
// An invoice whose balance reaches zero becomes balanced. The payment
// locks the account first and then each invoice, and checks allocations
// against balances read under those locks. Concurrent payments on one
// account therefore run one after another, and the database rejects any
// posting that would take a balance below zero, so no invoice is ever
// overpaid.
func (s *Service) PostPayment(ctx context.Context, p PaymentParams) (*Payment, error) {
	if err := requireBy("post payment", p.By); err != nil {
		return nil, err
	}
	if err := validAmount(p.Amount); err != nil {
		return nil, fmt.Errorf("post payment on account %s: %w", p.AccountID, err)
	}
	if p.Received.IsZero() {
		p.Received = s.now()
	}
	var out *Payment
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		pay, err := s.postPayment(ctx, tx, p)
		out = pay
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("post payment on account %s: %w", p.AccountID, err)
	}
	return out, nil
}

// postPayment posts p within tx. It reads only through tx: a read
// through the Store would wait for a second connection while tx holds
// one, and on PostgreSQL both come from one pool.
func (s *Service) postPayment(ctx context.Context, tx Tx, p PaymentParams) (*Payment, error) {
	acct, err := tx.GetAccount(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	if p.Amount.Currency != acct.Currency {
		return nil, fmt.Errorf("payment in %s on account in %s: %w", p.Amount.Currency, acct.Currency, ErrCurrencyMismatch)
	}

	allocs, err := s.allocate(ctx, tx, acct, p)
	if err != nil {
		return nil, err
	}

	now := s.now()
	pay := &Payment{
		ID: s.cfg.NewID(), Kind: PaymentReceived, AccountID: acct.ID, Amount: p.Amount, Payer: p.Payer,
		Method: p.Method, Reference: p.Reference, ClaimID: p.ClaimID, Allocations: allocs,
		Received: p.Received.UTC(), Posted: now, PostedBy: p.By,
	}

	journal := "payment-" + pay.ID
	entries := []Entry{{
		JournalID: journal, Kind: EntryPayment, Debit: BookCash, Credit: BookUnapplied, Amount: p.Amount,
		AccountID: acct.ID, PaymentID: pay.ID, Posted: now, PostedBy: p.By, Memo: "payment received",
	}}
	applied := Money{Currency: acct.Currency}
	for _, a := range allocs {
		entries = append(entries, Entry{
			JournalID: journal, Kind: EntryAllocation, Debit: BookUnapplied, Credit: BookReceivable, Amount: a.Amount,
			AccountID: acct.ID, InvoiceID: a.InvoiceID, PaymentID: pay.ID, Posted: now, PostedBy: p.By, Memo: "payment applied",
		})
		if applied, err = applied.Add(a.Amount); err != nil {
			return nil, err
		}
	}

	pay.Unapplied, err = p.Amount.Sub(applied)
	if err != nil {
		return nil, err
	}
	if pay.Unapplied.Amount < 0 {
		return nil, fmt.Errorf("allocations of %s exceed the payment of %s: %w", applied, p.Amount, ErrInvalid)
	}
	if pay.Unapplied.Amount > 0 && !p.AllowCredit {
		return nil, fmt.Errorf("payment of %s exceeds the %s it is applied to, and AllowCredit is not set: %w", p.Amount, applied, ErrOverpayment)
	}

	if err := tx.InsertPayment(ctx, *pay); err != nil {
		return nil, err
	}
	if err := tx.Post(ctx, entries); err != nil {
		return nil, err
	}
	if err := s.markBalanced(ctx, tx, allocs, now, p.By); err != nil {
		return nil, err
	}
	return pay, emit(ctx, tx, now, EventPaymentPosted, pay.ID, 1, map[string]any{
		"account": acct.ID, "amount": moneyData(p.Amount), "allocations": len(allocs),
		"unapplied": moneyData(pay.Unapplied), "claim": p.ClaimID,
	})
}

// allocate checks explicit allocations, or allocates the payment to open
// invoices oldest first.
func (s *Service) allocate(ctx context.Context, tx Tx, acct *Account, p PaymentParams) ([]Allocation, error) {
	if p.Allocations != nil {
		seen := map[string]bool{}
		for _, a := range p.Allocations {
			if err := validAmount(a.Amount); err != nil {
				return nil, fmt.Errorf("allocation to invoice %s: %w", a.InvoiceID, err)
			}
			if seen[a.InvoiceID] {
				return nil, fmt.Errorf("invoice %s is allocated twice: %w", a.InvoiceID, ErrInvalid)
			}
			seen[a.InvoiceID] = true
			if err := s.checkApplicable(ctx, tx, acct, a.InvoiceID, a.Amount); err != nil {
				return nil, err
			}
		}
		return p.Allocations, nil
	}
	invoices, err := tx.ListInvoices(ctx, InvoiceFilter{AccountID: acct.ID, Kind: KindInvoice, Statuses: []InvoiceStatus{InvoiceIssued}})
	if err != nil {
		return nil, err
	}
	left := p.Amount.Amount
	var out []Allocation
	for _, listed := range invoices {
		if left == 0 {
			break
		}
		inv, err := tx.GetInvoice(ctx, listed.ID)
		if err != nil {
			return nil, err
		}
		if inv.Status != InvoiceIssued || inv.Balance.Amount <= 0 {
			continue
		}
		take := min(left, inv.Balance.Amount)
		out = append(out, Allocation{InvoiceID: inv.ID, Amount: Money{Amount: take, Currency: acct.Currency}})
		left -= take
	}
	return out, nil
}

// checkApplicable locks an invoice and checks that amount may be applied
// to it.
func (s *Service) checkApplicable(ctx context.Context, tx Tx, acct *Account, invoiceID string, amount Money) error {
	inv, err := tx.GetInvoice(ctx, invoiceID)
	if err != nil {
		return err
	}
	switch {
	case inv.AccountID != acct.ID:
		return fmt.Errorf("invoice %s belongs to another account: %w", inv.ID, ErrInvalid)
	case inv.Status != InvoiceIssued:
		return fmt.Errorf("invoice %s is %s, not issued: %w", inv.ID, inv.Status, ErrConflict)
	case amount.Currency != inv.Currency:
		return fmt.Errorf("amount in %s on invoice in %s: %w", amount.Currency, inv.Currency, ErrCurrencyMismatch)
	case amount.Amount > inv.Balance.Amount:
		return fmt.Errorf("%s on invoice %s with balance %s: %w", amount, inv.ID, inv.Balance, ErrOverpayment)
	}
	return nil
}

// markBalanced moves every invoice of allocs whose balance is zero to
// balanced.
func (s *Service) markBalanced(ctx context.Context, tx Tx, allocs []Allocation, at time.Time, by string) error {
	for _, a := range allocs {
		inv, err := tx.GetInvoice(ctx, a.InvoiceID)
		if err != nil {
			return err
		}
		if inv.Status != InvoiceIssued || inv.Balance.Amount != 0 {
			continue
		}
		err = tx.UpdateInvoice(ctx, InvoiceUpdate{
			ID: inv.ID, FromStatus: InvoiceIssued, Status: InvoiceBalanced, Version: inv.Version + 1, At: at, By: by,
			Reason: "balance is zero",
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ApplyCreditParams applies account credit to an invoice.
type ApplyCreditParams struct {
	AccountID string
	InvoiceID string
	Amount    Money
	By        string
}

// ApplyCredit moves unapplied money the account holds to an invoice.
func (s *Service) ApplyCredit(ctx context.Context, p ApplyCreditParams) error {
	if err := requireBy("apply credit", p.By); err != nil {
		return err
	}
	if err := validAmount(p.Amount); err != nil {
		return fmt.Errorf("apply credit on account %s: %w", p.AccountID, err)
	}
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		acct, err := tx.GetAccount(ctx, p.AccountID)
		if err != nil {
			return err
		}
		credit, err := tx.AccountCredit(ctx, acct.ID, acct.Currency)
		if err != nil {
			return err
		}
		if p.Amount.Amount > credit.Amount {
			return fmt.Errorf("%s exceeds the account credit of %s: %w", p.Amount, credit, ErrOverpayment)
		}
		if err := s.checkApplicable(ctx, tx, acct, p.InvoiceID, p.Amount); err != nil {
			return err
		}
		now := s.now()
		err = tx.Post(ctx, []Entry{{
			JournalID: "credit-" + s.cfg.NewID(), Kind: EntryAllocation, Debit: BookUnapplied, Credit: BookReceivable,
			Amount: p.Amount, AccountID: acct.ID, InvoiceID: p.InvoiceID, Posted: now, PostedBy: p.By, Memo: "credit applied",
		}})
		if err != nil {
			return err
		}
		return s.markBalanced(ctx, tx, []Allocation{{InvoiceID: p.InvoiceID, Amount: p.Amount}}, now, p.By)
	})
	if err != nil {
		return fmt.Errorf("apply credit on account %s: %w", p.AccountID, err)
	}
	return nil
}

// RefundParams pays account credit back.
type RefundParams struct {
	AccountID string
	Amount    Money
	Payer     string
	Method    string
	Reference string
	By        string
}

// Refund pays back unapplied money the account holds. A refund larger
// than the credit is rejected with ErrOverpayment.
func (s *Service) Refund(ctx context.Context, p RefundParams) (*Payment, error) {
	if err := requireBy("refund", p.By); err != nil {
		return nil, err
	}
	if err := validAmount(p.Amount); err != nil {
		return nil, fmt.Errorf("refund on account %s: %w", p.AccountID, err)
	}
	var out *Payment
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		acct, err := tx.GetAccount(ctx, p.AccountID)
		if err != nil {
			return err
		}
		if p.Amount.Currency != acct.Currency {
			return fmt.Errorf("refund in %s on account in %s: %w", p.Amount.Currency, acct.Currency, ErrCurrencyMismatch)
		}
		credit, err := tx.AccountCredit(ctx, acct.ID, acct.Currency)
		if err != nil {
			return err
		}
		if p.Amount.Amount > credit.Amount {
			return fmt.Errorf("refund of %s exceeds the account credit of %s: %w", p.Amount, credit, ErrOverpayment)
		}
		now := s.now()
		pay := &Payment{
			ID: s.cfg.NewID(), Kind: PaymentRefund, AccountID: acct.ID, Amount: p.Amount, Payer: p.Payer,
			Method: p.Method, Reference: p.Reference, Unapplied: Money{Currency: acct.Currency},
			Received: now, Posted: now, PostedBy: p.By,
		}
		if err := tx.InsertPayment(ctx, *pay); err != nil {
			return err
		}
		err = tx.Post(ctx, []Entry{{
			JournalID: "refund-" + pay.ID, Kind: EntryRefund, Debit: BookUnapplied, Credit: BookCash, Amount: p.Amount,
			AccountID: acct.ID, PaymentID: pay.ID, Posted: now, PostedBy: p.By, Memo: "refund paid",
		}})
		if err != nil {
			return err
		}
		out = pay
		return emit(ctx, tx, now, EventRefundPosted, pay.ID, 1, map[string]any{"account": acct.ID, "amount": moneyData(p.Amount)})
	})
	if err != nil {
		return nil, fmt.Errorf("refund on account %s: %w", p.AccountID, err)
	}
	return out, nil
}

// AdjustParams takes an amount off an invoice's balance.
type AdjustParams struct {
	InvoiceID string
	Amount    Money
	// Kind is EntryAdjustment (a contractual allowance) or EntryWriteOff
	// (bad debt).
	Kind   EntryKind
	Reason string
	By     string
}

// Adjust posts an adjustment or write-off against an invoice's
// receivable. It cannot exceed the balance.
func (s *Service) Adjust(ctx context.Context, p AdjustParams) error {
	if err := requireBy("adjust invoice", p.By); err != nil {
		return err
	}

	book := BookAdjustment
	switch p.Kind {
	case EntryAdjustment:
	case EntryWriteOff:
		book = BookWriteOff
	default:
		return invalidf("adjust invoice %s: Kind %q is not adjustment or write-off", p.InvoiceID, p.Kind)
	}
	if err := validAmount(p.Amount); err != nil {
		return fmt.Errorf("adjust invoice %s: %w", p.InvoiceID, err)
	}
	if strings.TrimSpace(p.Reason) == "" {
		return invalidf("adjust invoice %s: Reason is missing", p.InvoiceID)
	}

	// The invoice's account is read before the transaction, so that the
	// transaction locks the account before the invoice, in the order
	// PostPayment takes them. checkApplicable then checks, under both
	// locks, that the invoice still belongs to that account.
	listed, err := s.store.GetInvoice(ctx, p.InvoiceID)
	if err != nil {
		return fmt.Errorf("adjust invoice %s: %w", p.InvoiceID, err)
	}

	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		acct, err := tx.GetAccount(ctx, listed.AccountID)
		if err != nil {
			return err
		}
		if err := s.checkApplicable(ctx, tx, acct, p.InvoiceID, p.Amount); err != nil {
			return err
		}

		now := s.now()
		err = tx.Post(ctx, []Entry{{
			JournalID: string(p.Kind) + "-" + s.cfg.NewID(), Kind: p.Kind, Debit: book, Credit: BookReceivable,
			Amount: p.Amount, AccountID: acct.ID, InvoiceID: p.InvoiceID, Posted: now, PostedBy: p.By, Memo: p.Reason,
		}})
		if err != nil {
			return err
		}
		if err := s.markBalanced(ctx, tx, []Allocation{{InvoiceID: p.InvoiceID}}, now, p.By); err != nil {
			return err
		}
		return emit(ctx, tx, now, EventAdjustment, p.InvoiceID, 0, map[string]any{"kind": p.Kind, "amount": moneyData(p.Amount)})
	})
	if err != nil {
		return fmt.Errorf("adjust invoice %s: %w", p.InvoiceID, err)
	}
	return nil
}

// GetPayment returns a payment or refund.
func (s *Service) GetPayment(ctx context.Context, id string) (*Payment, error) {
	return s.store.GetPayment(ctx, id)
}

// ListPayments returns the payments that match f.
func (s *Service) ListPayments(ctx context.Context, f PaymentFilter) ([]Payment, error) {
	return s.store.ListPayments(ctx, f)
}

// ListEntries returns the ledger entries that match f.
func (s *Service) ListEntries(ctx context.Context, f EntryFilter) ([]Entry, error) {
	return s.store.ListEntries(ctx, f)
}

// Statement returns what an account owes over [from, to): the opening
// balance, the invoices issued and payments received in the period, and
// the balance due at to. Every amount is a sum of ledger entries.
func (s *Service) Statement(ctx context.Context, accountID string, from, to time.Time) (*Statement, error) {
	acct, err := s.store.GetAccount(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("statement of account %s: %w", accountID, err)
	}
	all, err := s.store.ListEntries(ctx, EntryFilter{AccountID: accountID, To: to})
	if err != nil {
		return nil, fmt.Errorf("statement of account %s: %w", accountID, err)
	}

	st := &Statement{AccountID: acct.ID, PatientID: acct.PatientID, Currency: acct.Currency, From: from, To: to}
	var opening, receivable, credit int64
	for _, e := range all {
		delta := bookDelta(e, BookReceivable) - bookDelta(e, BookUnapplied)
		receivable += bookDelta(e, BookReceivable)
		credit += bookDelta(e, BookUnapplied)
		if e.Posted.Before(from) {
			opening += delta
		} else {
			st.Entries = append(st.Entries, e)
		}
	}

	st.Opening = Money{Amount: opening, Currency: acct.Currency}
	st.Credit = Money{Amount: credit, Currency: acct.Currency}
	st.Due = Money{Amount: receivable - credit, Currency: acct.Currency}

	invoices, err := s.store.ListInvoices(ctx, InvoiceFilter{AccountID: accountID})
	if err != nil {
		return nil, fmt.Errorf("statement of account %s: %w", accountID, err)
	}
	for _, inv := range invoices {
		if inv.Status != InvoiceDraft && !inv.Issued.Before(from) && inv.Issued.Before(to) {
			st.Invoices = append(st.Invoices, inv)
		}
	}

	st.Payments, err = s.store.ListPayments(ctx, PaymentFilter{AccountID: accountID, From: from, To: to})
	if err != nil {
		return nil, fmt.Errorf("statement of account %s: %w", accountID, err)
	}
	return st, nil
}

// validAmount checks an amount a caller sends: positive, in a supported
// ISO 4217 currency.
func validAmount(m Money) error {
	if err := ValidCurrency(m.Currency); err != nil {
		return err
	}
	if m.Amount <= 0 {
		return invalidf("Amount %s must be positive", m)
	}
	return nil
}

// bookDelta returns how e moves the balance of book: debits raise the
// receivable, credits raise unapplied money.
func bookDelta(e Entry, book Book) int64 {
	sign := int64(1)
	if book == BookUnapplied {
		sign = -1
	}
	var d int64
	if e.Debit == book {
		d += e.Amount.Amount
	}
	if e.Credit == book {
		d -= e.Amount.Amount
	}
	return sign * d
}
