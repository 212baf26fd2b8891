package scheduling

// Status is a FHIR R4 Appointment.status code.
type Status string

// Appointment statuses of FHIR R4 (value set appointmentstatus).
const (
	StatusProposed       Status = "proposed"
	StatusPending        Status = "pending"
	StatusBooked         Status = "booked"
	StatusArrived        Status = "arrived"
	StatusFulfilled      Status = "fulfilled"
	StatusCancelled      Status = "cancelled"
	StatusNoShow         Status = "noshow"
	StatusEnteredInError Status = "entered-in-error"
	StatusCheckedIn      Status = "checked-in"
	StatusWaitlist       Status = "waitlist"
)

// transitions lists the statuses each status may move to. FHIR R4 gives
// the codes and their meaning but no state machine, so this is the
// workflow the codes describe: a request (proposed, waitlist) becomes a
// hold (pending) or a booking; a booking ends fulfilled, cancelled or as a
// no-show; the patient may check in before or after arriving. Any
// non-final record may be marked entered-in-error, and so may a finished
// one, because that status corrects a mistake rather than recording an
// event.
var transitions = map[Status][]Status{
	StatusProposed:  {StatusPending, StatusBooked, StatusCancelled, StatusEnteredInError},
	StatusWaitlist:  {StatusProposed, StatusPending, StatusBooked, StatusCancelled, StatusEnteredInError},
	StatusPending:   {StatusBooked, StatusCancelled, StatusEnteredInError},
	StatusBooked:    {StatusArrived, StatusCheckedIn, StatusCancelled, StatusNoShow, StatusEnteredInError},
	StatusArrived:   {StatusCheckedIn, StatusFulfilled, StatusCancelled, StatusEnteredInError},
	StatusCheckedIn: {StatusArrived, StatusFulfilled, StatusCancelled, StatusNoShow, StatusEnteredInError},
	StatusFulfilled: {StatusEnteredInError},
	StatusCancelled: {StatusEnteredInError},
	StatusNoShow:    {StatusEnteredInError},
}

// Valid reports whether s is a FHIR R4 appointment status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok || s == StatusEnteredInError
}

// CanMoveTo reports whether the workflow allows a change from s to next.
func (s Status) CanMoveTo(next Status) bool {
	for _, t := range transitions[s] {
		if t == next {
			return true
		}
	}
	return false
}

// holdsSeats reports whether an appointment in status s keeps its seats
// claimed. A no-show keeps them: the time has passed and was lost.
func (s Status) holdsSeats() bool {
	switch s {
	case StatusPending, StatusBooked, StatusArrived, StatusCheckedIn, StatusFulfilled, StatusNoShow:
		return true
	}
	return false
}

// checkTransition returns a *TransitionError unless from may move to to.
func checkTransition(id string, from, to Status) error {
	if !from.CanMoveTo(to) {
		return &TransitionError{AppointmentID: id, From: from, To: to}
	}
	return nil
}
