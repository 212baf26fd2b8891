package scheduling

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the package returns wraps one of them, so
// callers test the kind with errors.Is and never parse messages. Messages
// name appointment, schedule and waitlist ids, never a patient id.
var (
	// ErrNotFound: no schedule, appointment, appointment type or waitlist
	// entry with that id exists.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the input breaks a rule of the operation. The message
	// names the field.
	ErrInvalid = errors.New("invalid")
	// ErrConflict: the write clashes with the stored state, such as a
	// second schedule for one actor.
	ErrConflict = errors.New("conflict")
	// ErrInvalidTransition: an appointment cannot move from its current
	// status to the requested one. Details are in a *TransitionError.
	ErrInvalidTransition = errors.New("invalid status transition")
)

// ErrSlotFull: at least one actor the appointment needs has no free seat
// left at that time under its schedule's overbooking policy. It wraps
// ErrConflict.
var ErrSlotFull = fmt.Errorf("slot full: %w", ErrConflict)

// ErrUnavailable: the requested time is outside the availability of an
// actor the appointment needs, or in an exception. It wraps ErrConflict.
var ErrUnavailable = fmt.Errorf("actor not available: %w", ErrConflict)

// ErrHoldExpired: a hold was booked after its expiry, and its seats may
// already be gone. It wraps ErrConflict.
var ErrHoldExpired = fmt.Errorf("hold expired: %w", ErrConflict)

// ErrTransient: a concurrent transaction made this one fail, as a
// PostgreSQL deadlock or serialisation failure does. The service retries
// such transactions; when the retries run out the error reaches the caller
// and wraps ErrConflict.
var ErrTransient = fmt.Errorf("concurrent transaction: %w", ErrConflict)

// TransitionError reports a status change that the appointment workflow
// does not allow. It wraps ErrInvalidTransition.
type TransitionError struct {
	AppointmentID string
	From, To      Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("appointment %s: invalid status transition from %s to %s", e.AppointmentID, e.From, e.To)
}

// Unwrap makes errors.Is(err, ErrInvalidTransition) hold.
func (e *TransitionError) Unwrap() error { return ErrInvalidTransition }

func invalidf(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrInvalid)...)
}
