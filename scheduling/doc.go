// Package scheduling books appointments for patients with the actors they
// need: practitioners, locations and rooms, devices and healthcare
// services. It owns schedules, availability, appointment types, slots,
// appointments, seat counters and a waitlist, stored through a small
// Store interface. Package scheduling/sqlstore implements the interface on
// SQLite and PostgreSQL, and scheduling/schedulingtest is the conformance
// suite every backend runs. The package imports no other domain: a patient is an id.
//
// # Model
//
// Each Actor has at most one Schedule. Its availability is a set of rules:
// weekly rules (a weekday and local wall-clock times, read in the
// schedule's IANA zone, so a 09:00 to 12:00 Monday rule stays 09:00 to
// 12:00 local on both sides of a daylight-saving change), one-off
// additions and exceptions (holidays, leave), each addition or weekly rule
// with a capacity. An AppointmentType gives the duration and the buffers
// before and after, during which the actors stay busy.
//
// Slots are not stored. FindSlots and ListSlots generate them from the
// rules: within each available block, a slot starts every duration plus
// buffers, rounded up to the schedule's grid. An appointment may need
// several actors (a surgeon, a theatre and a device), and a slot for it
// exists only where all of them are available and free. Times are stored
// in UTC and returned in the facility's zone (Config.TimeZone).
//
// Appointment statuses are the FHIR R4 codes, and changes follow the
// workflow in Status.CanMoveTo: proposed and waitlist lead to pending or
// booked; booked leads to arrived, checked-in, cancelled, noshow or
// entered-in-error; arrived and checked-in lead to fulfilled. Any other
// change fails with a *TransitionError wrapping ErrInvalidTransition.
// Every change of an appointment is a new version kept in its history.
// A reschedule cancels the old appointment and books a new one, linked by
// Replaces and ReplacedBy, so both keep their history.
//
// A hold is an appointment in status pending with an expiry. It keeps its
// seats until it is booked (Book with HoldID), cancelled or lapses. A
// booking that finds a cell full cancels lapsed holds in its way and tries
// again; ReleaseExpiredHolds does the same for all of them.
//
// # Participant responses
//
// Propose stores a proposed appointment, which claims no seats. Each
// participant (an actor, or the patient as an Actor of kind Patient)
// answers with Respond: accepted, declined, tentative or needs-action.
// Responses are kept in order, and a participant's latest one is its
// status. Every participant is required, so on a proposed or pending
// appointment a decline cancels it with reason "declined by participant"
// and the last acceptance books it, claiming the seats of a proposal in
// the same transaction. When they are gone, the response is kept, the
// appointment keeps its status, and Respond returns ErrSlotFull. Reads go
// through the optional ResponseStore interface of the Store.
//
// # Capacity
//
// Each schedule's time is divided into grid cells (Schedule.Granularity,
// 5 minutes by default). An appointment takes one seat in every cell its
// occupied time touches, on each of its actors' schedules. A cell's seat
// count is the availability rule's capacity raised by the schedule's
// OverbookingPolicy: none, N extra per block, or a percentage rounded
// down. The database enforces the count: each cell is a counter row
// updated by a guarded upsert that only increments while booked < seats,
// with a CHECK constraint behind it (see scheduling/sqlstore). So however
// many requests race for a slot, exactly the policy's number succeed,
// and the rest get ErrSlotFull. Cancellation, entered-in-error and lapsed
// holds return their seats; a no-show keeps them.
//
// # Waitlist
//
// A WaitlistEntry waits for an appointment type, optionally one actor, and
// a window. When seats free up in the future (a cancellation or a lapsed
// hold), the oldest entry whose window contains the freed time and whose
// actor, if any, took part is offered it: a pending hold for that patient
// lasting Config.OfferTTL. Booking the hold accepts the offer. When the
// offer lapses or is cancelled, the entry becomes expired and the seats
// go to the next entry.
//
// # Events and reminders
//
// Every change writes domain events (scheduling.appointment.booked,
// .held, .cancelled, .rescheduled, .arrived, .checked-in, .fulfilled,
// .noshow, .entered-in-error, .hold-expired, .proposed, .responded and
// scheduling.waitlist.*) to
// a transactional outbox in the same transaction. A booking also writes
// one scheduling.reminder.due event per Config.ReminderLeads entry still
// in the future, with DueAt set; sending reminders is a subscriber's job,
// and the subscriber should check the appointment is still booked when the
// reminder falls due. Event data holds ids, statuses, codes and times,
// never a patient id or reason text.
//
// # Concurrency
//
// A Service and the sqlstore Store are safe for concurrent use. Seat
// counters are the only shared state bookings write, and the database
// serialises them: PostgreSQL through row locks taken in one global
// order, so bookings that need overlapping sets of actors cannot deadlock,
// and SQLite through its single writer. Deadlocks and serialisation
// failures are retried a few times and then returned as ErrTransient.
// Outbox positions become visible in order on both backends.
//
// # Known limits
//
//   - Availability is read outside the booking transaction: a rule change
//     that commits while a booking is in flight may not be seen by it.
//     Seat counts are always enforced.
//   - A new exception or a lowered capacity does not cancel bookings
//     already made; ListAppointments finds them.
//   - Slots are generated within one block at a time. An appointment
//     longer than the block it starts in, or one crossing from one block
//     into a touching block of different capacity, is not offered by
//     FindSlots, but Book accepts it where the blocks cover it.
//   - Grid cells are aligned in UTC. In a zone whose offset is not a
//     multiple of the granularity (Nepal, +05:45, with a 10-minute grid),
//     back-to-back appointments share a cell and conflict.
//   - A wall-clock time that occurs twice when clocks go back (02:30 on
//     the last Sunday of October in Berlin) is resolved as time.Date does,
//     which Go leaves unspecified; a time that does not exist when clocks
//     go forward moves forward by the gap.
//   - Each actor has one schedule; a practitioner working at two
//     locations uses one schedule with LocationID left empty.
//   - A waitlist entry whose offer lapses is expired, not put back in the
//     queue; the patient joins again.
//
// # FHIR
//
// The types map onto FHIR R4: a Schedule onto Schedule (actor, active),
// Slot onto Slot (status free or busy, schedule reference), Appointment
// onto Appointment (status, appointmentType, start, end, participant for
// each actor and the patient, cancelationReason) and a WaitlistEntry onto
// an Appointment in status waitlist with requestedPeriod.
package scheduling
