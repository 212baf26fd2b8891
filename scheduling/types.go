package scheduling

import (
	"encoding/json"
	"time"
)

// Schedule is the availability of one actor, such as a surgeon, a theatre
// or an ultrasound device. Each actor has at most one schedule.
type Schedule struct {
	ID    string
	Actor Actor
	// Name is a display name for staff, such as "Theatre 3".
	Name string
	// LocationID is the Location where the actor works under this
	// schedule, empty when not tied to one. Slot searches filter on it.
	LocationID string
	// TimeZone is the IANA zone in which weekly rules are read, such as
	// "Europe/Berlin". Empty means the service's facility zone.
	TimeZone string
	// Granularity is the length of the seat grid that capacity is counted
	// in. It divides an hour; the default is 5 minutes.
	Granularity time.Duration
	Overbooking OverbookingPolicy
	// Active schedules take bookings; inactive ones are kept for history.
	Active  bool
	Created time.Time
	Updated time.Time
}

// OverbookingMode selects how many seats a block offers beyond its
// capacity.
type OverbookingMode string

// Overbooking modes.
const (
	// OverbookNone offers exactly the block's capacity.
	OverbookNone OverbookingMode = "none"
	// OverbookExtra offers Extra seats beyond the capacity.
	OverbookExtra OverbookingMode = "extra"
	// OverbookPercent offers Percent per cent beyond the capacity,
	// rounded down, so a capacity of 4 at 50% offers 6 seats and a
	// capacity of 1 at 50% offers 1.
	OverbookPercent OverbookingMode = "percent"
)

// OverbookingPolicy is a schedule's rule for seats beyond capacity. The
// zero value is OverbookNone.
type OverbookingPolicy struct {
	Mode    OverbookingMode
	Extra   int
	Percent int
}

// Seats returns how many appointments may overlap in a block of the given
// capacity.
func (p OverbookingPolicy) Seats(capacity int) int {
	switch p.Mode {
	case OverbookExtra:
		return capacity + p.Extra
	case OverbookPercent:
		return capacity + capacity*p.Percent/100
	}
	return capacity
}

// Validate returns an error wrapping ErrInvalid for an unknown mode or a
// negative or missing amount.
func (p OverbookingPolicy) Validate() error {
	switch p.Mode {
	case "", OverbookNone:
		return nil
	case OverbookExtra:
		if p.Extra < 1 {
			return invalidf("overbooking: Extra must be at least 1 in mode extra")
		}
	case OverbookPercent:
		if p.Percent < 1 || p.Percent > 1000 {
			return invalidf("overbooking: Percent must be from 1 to 1000 in mode percent")
		}
	default:
		return invalidf("overbooking: unknown mode %q, use none, extra or percent", p.Mode)
	}
	return nil
}

// AvailabilityKind tells how an Availability adds or removes time.
type AvailabilityKind string

// Availability kinds.
const (
	// Weekly repeats every week on Weekday from StartTime to EndTime,
	// local time in the schedule's zone.
	Weekly AvailabilityKind = "weekly"
	// Addition adds the one-off period [Start, End).
	Addition AvailabilityKind = "addition"
	// Exception removes [Start, End) from all other availability, as a
	// holiday or leave does.
	Exception AvailabilityKind = "exception"
)

// Availability is one rule of a schedule's availability. Which fields
// matter depends on Kind.
type Availability struct {
	ID         string
	ScheduleID string
	Kind       AvailabilityKind

	// Weekly: the day and the local wall-clock times. The rule applies on
	// dates from ValidFrom to ValidUntil inclusive; a zero Date is
	// unbounded.
	Weekday    time.Weekday
	StartTime  TimeOfDay
	EndTime    TimeOfDay
	ValidFrom  Date
	ValidUntil Date

	// Addition and Exception: the period, stored in UTC.
	Start time.Time
	End   time.Time

	// Weekly and Addition: how many appointments may overlap before the
	// overbooking policy applies; 0 means 1.
	Capacity int
	// AppointmentTypes restricts the rule to these type codes; empty
	// allows every type.
	AppointmentTypes []string
	// Reason is a code or short text for an exception, such as
	// "public-holiday" or "leave". It must not hold patient data.
	Reason string
}

// AppointmentType is a kind of visit with its length and the time the
// actors need before and after it.
type AppointmentType struct {
	// Code identifies the type, such as "ROUTINE" or "knee-arthroscopy".
	Code    string
	Display string
	// Duration is the length of the appointment itself.
	Duration time.Duration
	// BufferBefore and BufferAfter are preparation and turnover time.
	// The actors are busy then too, but the buffers may reach outside
	// the availability blocks.
	BufferBefore time.Duration
	BufferAfter  time.Duration
}

// Appointment is one booking, hold or request for a patient with the actors
// it needs. Times are returned in the facility's zone and stored in UTC.
type Appointment struct {
	ID string
	// Version starts at 1 and grows by one with every change.
	Version         int64
	Status          Status
	AppointmentType string
	// PatientID references the patient; scheduling stores no other
	// patient data.
	PatientID string
	// Participants lists every actor the appointment needs, sorted by
	// kind and id. The patient is not among them.
	Participants []Actor
	Start        time.Time
	End          time.Time
	// HoldExpires is when a pending hold lapses; zero for other statuses.
	HoldExpires time.Time
	// CancelReason is a code or short text given at cancellation.
	CancelReason string
	// Replaces and ReplacedBy link the appointments of a reschedule.
	Replaces   string
	ReplacedBy string
	// WaitlistEntryID names the waitlist entry this appointment was
	// offered to, if any.
	WaitlistEntryID string
	Created         time.Time
	Updated         time.Time
}

// AppointmentVersion is one recorded change of an appointment.
type AppointmentVersion struct {
	Version int64
	Status  Status
	Start   time.Time
	End     time.Time
	Reason  string
	Time    time.Time
}

// WaitlistStatus is the state of a waitlist entry.
type WaitlistStatus string

// Waitlist entry statuses.
const (
	WaitlistWaiting   WaitlistStatus = "waiting"
	WaitlistOffered   WaitlistStatus = "offered"
	WaitlistBooked    WaitlistStatus = "booked"
	WaitlistExpired   WaitlistStatus = "expired"
	WaitlistWithdrawn WaitlistStatus = "withdrawn"
)

// WaitlistEntry is a patient waiting for a slot of an appointment type,
// optionally with one actor, inside a window. Entries are served in the
// order they were created.
type WaitlistEntry struct {
	ID              string
	PatientID       string
	AppointmentType string
	// Actor is the requested actor; the zero Actor accepts any.
	Actor Actor
	// From and To bound the acceptable start times: From <= start and
	// end <= To.
	From   time.Time
	To     time.Time
	Status WaitlistStatus
	// OfferedAppointmentID is the pending hold offered to the patient.
	OfferedAppointmentID string
	Created              time.Time
	Updated              time.Time
}

// Event is a domain event or reminder in the transactional outbox.
type Event struct {
	// Position orders events; subscribers read from a position onwards.
	Position int64
	// Type is a name such as "appointment.booked" or "reminder.due".
	Type string
	// AppointmentID and Version identify the appointment version the
	// event is about; WaitlistEntryID is set for waitlist events.
	AppointmentID   string
	Version         int64
	WaitlistEntryID string
	Time            time.Time
	// DueAt is when a reminder should be sent; zero for other events.
	DueAt time.Time
	// Data is a JSON object with ids, statuses and times, never patient
	// values.
	Data json.RawMessage
}

// SlotStatus is a FHIR R4 Slot.status code.
type SlotStatus string

// Slot statuses.
const (
	SlotFree SlotStatus = "free"
	SlotBusy SlotStatus = "busy"
)

// Slot is a time at which every listed actor can take an appointment of
// the type. Start and End are in the facility's zone.
type Slot struct {
	Start           time.Time
	End             time.Time
	AppointmentType string
	// Actors lists the actors the slot is for: the required ones and,
	// when the search gave candidates, the one chosen.
	Actors []Actor
	// ScheduleIDs holds the schedule of each actor, in the same order.
	ScheduleIDs []string
	// Seats is the number of further appointments the slot can take,
	// the least over its actors; 0 for a busy slot.
	Seats  int
	Status SlotStatus
}
