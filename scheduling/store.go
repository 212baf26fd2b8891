package scheduling

import (
	"context"
	"time"
)

// ScheduleFilter selects schedules. Empty fields match everything.
type ScheduleFilter struct {
	// Actors keeps schedules of any of these actors.
	Actors []Actor
	Kind   ActorKind
	// LocationID keeps schedules tied to this location.
	LocationID string
	// ActiveOnly drops inactive schedules.
	ActiveOnly bool
}

// AvailabilityFilter selects the rules of some schedules that can apply
// in [From, To): every weekly rule, and additions and exceptions that
// overlap the window. A zero From or To is unbounded.
type AvailabilityFilter struct {
	ScheduleIDs []string
	From, To    time.Time
}

// AppointmentFilter selects appointments. Empty fields match everything.
type AppointmentFilter struct {
	// Actors keeps appointments that need any of these actors.
	Actors    []Actor
	PatientID string
	Statuses  []Status
	// From and To keep appointments that overlap [From, To).
	From, To time.Time
	// HoldExpiredBy keeps pending holds whose expiry is at or before it.
	HoldExpiredBy time.Time
	// Limit caps the result; 0 means no cap.
	Limit int
}

// WaitlistFilter selects waitlist entries, oldest first.
type WaitlistFilter struct {
	PatientID       string
	AppointmentType string
	Statuses        []WaitlistStatus
	Limit           int
}

// WaitlistMatch describes a freed slot to find the next eligible entry
// for: an entry waiting for AppointmentType whose window contains
// [Start, End) and whose requested actor, if any, is among Actors.
type WaitlistMatch struct {
	AppointmentType string
	Actors          []Actor
	Start, End      time.Time
}

// Cell is one grid cell of a schedule: the unit in which capacity is
// counted. Start is aligned to the schedule's granularity.
type Cell struct {
	ScheduleID string
	Start      time.Time
	// Seats is how many appointments may hold the cell at once.
	Seats int
	// Booked is how many do; Claim ignores it.
	Booked int
}

// CellFilter selects the occupied cells (Booked > 0) of some schedules
// that start in [From, To).
type CellFilter struct {
	ScheduleIDs []string
	From, To    time.Time
}

// Store persists schedules, availability, appointments, seat counters, the
// waitlist and the outbox. Participant responses are written through Tx
// and read through the optional ResponseStore. It only accesses data: the rules live in
// Service. Implementations are safe for concurrent use, and reads return
// times in UTC.
type Store interface {
	GetSchedule(ctx context.Context, id string) (*Schedule, error)
	ListSchedules(ctx context.Context, f ScheduleFilter) ([]Schedule, error)
	ListAvailability(ctx context.Context, f AvailabilityFilter) ([]Availability, error)
	GetAppointmentType(ctx context.Context, code string) (*AppointmentType, error)
	ListAppointmentTypes(ctx context.Context) ([]AppointmentType, error)
	// ListCells returns occupied cells ordered by schedule and start.
	ListCells(ctx context.Context, f CellFilter) ([]Cell, error)
	GetAppointment(ctx context.Context, id string) (*Appointment, error)
	// ListAppointments returns matches ordered by start, then id.
	ListAppointments(ctx context.Context, f AppointmentFilter) ([]Appointment, error)
	// AppointmentHistory returns every version of an appointment, oldest
	// first.
	AppointmentHistory(ctx context.Context, id string) ([]AppointmentVersion, error)
	GetWaitlistEntry(ctx context.Context, id string) (*WaitlistEntry, error)
	ListWaitlist(ctx context.Context, f WaitlistFilter) ([]WaitlistEntry, error)
	// Events returns outbox events after position, oldest first.
	Events(ctx context.Context, after int64, limit int) ([]Event, error)
	// InTx runs fn in one write transaction, committed when fn returns
	// nil.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	Close() error
}

// Tx is the write side of a Store within one transaction.
type Tx interface {
	// PutSchedule inserts or replaces a schedule. A second schedule for
	// one actor is rejected with ErrConflict.
	PutSchedule(ctx context.Context, s Schedule) error
	// PutAvailability inserts or replaces a rule.
	PutAvailability(ctx context.Context, a Availability) error
	DeleteAvailability(ctx context.Context, id string) error
	PutAppointmentType(ctx context.Context, t AppointmentType) error
	// GetAppointment returns an appointment locked against other writers
	// until the transaction ends.
	GetAppointment(ctx context.Context, id string) (*Appointment, error)
	ListAppointments(ctx context.Context, f AppointmentFilter) ([]Appointment, error)
	// PutAppointment inserts an appointment at version 1 or replaces the
	// stored one, whose version must be a.Version-1 (else ErrConflict),
	// and records the version with reason in its history.
	PutAppointment(ctx context.Context, a Appointment, reason string) error
	// Claim takes one seat in each cell for the appointment, creating
	// cells as needed and setting their seat count to the one given. It
	// is all or nothing: when a cell has no free seat it undoes the
	// seats it took and returns an error wrapping ErrSlotFull, and the
	// transaction stays usable.
	Claim(ctx context.Context, appointmentID string, cells []Cell) error
	// Release returns every seat the appointment holds and the cells they
	// were in, with their seat counts.
	Release(ctx context.Context, appointmentID string) ([]Cell, error)
	GetWaitlistEntry(ctx context.Context, id string) (*WaitlistEntry, error)
	// NextWaitlistEntry returns the oldest waiting entry that fits m,
	// locked until the transaction ends, or ErrNotFound.
	NextWaitlistEntry(ctx context.Context, m WaitlistMatch) (*WaitlistEntry, error)
	PutWaitlistEntry(ctx context.Context, e WaitlistEntry) error
	// PutResponse inserts a participant response.
	PutResponse(ctx context.Context, r Response) error
	// ListResponses returns matching responses in the order they were
	// stored.
	ListResponses(ctx context.Context, f ResponseFilter) ([]Response, error)
	// Emit appends an event to the outbox.
	Emit(ctx context.Context, e Event) error
}
