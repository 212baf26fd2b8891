package scheduling

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Patient is the participant kind of an appointment's patient in a
// Response. It is not a schedulable ActorKind: Actor.Validate rejects it.
const Patient ActorKind = "Patient"

// ResponseStatus is a FHIR R4 participationstatus code.
type ResponseStatus string

// Participation statuses of FHIR R4 (value set participationstatus).
const (
	ResponseAccepted    ResponseStatus = "accepted"
	ResponseDeclined    ResponseStatus = "declined"
	ResponseTentative   ResponseStatus = "tentative"
	ResponseNeedsAction ResponseStatus = "needs-action"
)

// Valid reports whether s is a participation status.
func (s ResponseStatus) Valid() bool {
	switch s {
	case ResponseAccepted, ResponseDeclined, ResponseTentative, ResponseNeedsAction:
		return true
	}
	return false
}

// maxCommentBytes bounds Response.Comment.
const maxCommentBytes = 1000

// Response is one participant's reply to an appointment, as a FHIR
// AppointmentResponse. A participant's latest response is its current
// status on the appointment.
type Response struct {
	ID            string
	AppointmentID string
	// Participant is one of the appointment's actors, or
	// Actor{Kind: Patient, ID: the patient id}.
	Participant Actor
	Status      ResponseStatus
	// Comment is free text from the participant. It may hold patient
	// data, so it never appears in errors, logs or events.
	Comment string
	Created time.Time
}

// ResponseFilter selects responses, oldest first. Empty fields match
// everything.
type ResponseFilter struct {
	AppointmentIDs []string
	// Participant keeps the responses of this participant when set.
	Participant Actor
	Statuses    []ResponseStatus
	// Limit caps the result; 0 means no cap.
	Limit int
}

// ResponseStore is the optional read side of participant responses. A
// Store that records responses implements it, and its Tx writes them.
type ResponseStore interface {
	GetResponse(ctx context.Context, id string) (*Response, error)
	// ListResponses returns matches in the order they were stored.
	ListResponses(ctx context.Context, f ResponseFilter) ([]Response, error)
}

// RespondParams requests a participant's response to an appointment.
type RespondParams struct {
	AppointmentID string
	// Participant is one of the appointment's actors, or the patient as
	// Actor{Kind: Patient, ID: the patient id}.
	Participant Actor
	Status      ResponseStatus
	Comment     string
}

// Respond stores a participant's response, emits an event for it and
// applies it to the appointment in one transaction. Every participant,
// the patient included, is required, so on a proposed or pending
// appointment a decline cancels it with reason "declined by participant",
// and the last acceptance books it. A proposed appointment claims its
// seats then; when they are gone, the response is stored, the appointment
// keeps its status, and Respond returns the response with an error
// wrapping ErrSlotFull. A cancelled, fulfilled or entered-in-error
// appointment gives ErrInvalidTransition, a participant not on the
// appointment ErrInvalid.
func (s *Service) Respond(ctx context.Context, p RespondParams) (*Response, error) {
	r, err := s.respond(ctx, p)
	if err != nil {
		return r, fmt.Errorf("respond to appointment %s: %w", p.AppointmentID, err)
	}
	return r, nil
}

func (s *Service) respond(ctx context.Context, p RespondParams) (*Response, error) {
	if !p.Status.Valid() {
		return nil, invalidf("Status %q is not one of accepted, declined, tentative, needs-action", p.Status)
	}
	if len(p.Comment) > maxCommentBytes {
		return nil, invalidf("Comment must be at most %d bytes", maxCommentBytes)
	}
	if p.Participant.Kind != Patient {
		if err := p.Participant.Validate(); err != nil {
			return nil, err
		}
	}
	// The seats of a proposed appointment are planned outside the
	// transaction, as Book plans them, and claimed inside it.
	current, err := s.store.GetAppointment(ctx, p.AppointmentID)
	if err != nil {
		return nil, err
	}
	var plan *bookingPlan
	if current.Status == StatusProposed && p.Status == ResponseAccepted {
		plan, err = s.planBooking(ctx, current.AppointmentType, current.Participants, current.Start)
		if err != nil {
			return nil, err
		}
	}
	var out Response
	var bookErr error
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		bookErr = nil
		now := s.now()
		a, err := tx.GetAppointment(ctx, p.AppointmentID)
		if err != nil {
			return err
		}
		if err := checkRespondable(a, p.Participant); err != nil {
			return err
		}
		out = Response{
			ID: s.cfg.NewID(), AppointmentID: a.ID, Participant: p.Participant,
			Status: p.Status, Comment: p.Comment, Created: now,
		}
		if err := tx.PutResponse(ctx, out); err != nil {
			return err
		}
		extra := map[string]any{
			"response_id": out.ID, "participant": participantRef(out.Participant), "participant_status": out.Status,
		}
		if err := emit(ctx, tx, now, "scheduling.appointment.responded", a, extra); err != nil {
			return err
		}
		bookErr, err = s.applyResponse(ctx, tx, a, out, plan, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.presentResponse(&out), bookErr
}

// checkRespondable returns an error unless participant may respond to a.
func checkRespondable(a *Appointment, participant Actor) error {
	switch a.Status {
	case StatusCancelled, StatusFulfilled, StatusEnteredInError:
		return fmt.Errorf("appointment %s is %s and takes no responses: %w", a.ID, a.Status, ErrInvalidTransition)
	}
	if participant.Kind == Patient {
		if participant.ID != a.PatientID {
			return invalidf("the patient given is not the patient of appointment %s", a.ID)
		}
		return nil
	}
	for _, actor := range a.Participants {
		if actor == participant {
			return nil
		}
	}
	return invalidf("%s is not a participant of appointment %s", participant, a.ID)
}

// applyResponse cancels or books a proposed or pending appointment after
// response r. Its first result is an error for the caller that still
// commits the transaction, such as ErrSlotFull. Its second aborts it.
func (s *Service) applyResponse(ctx context.Context, tx Tx, a *Appointment, r Response, plan *bookingPlan, now time.Time) (error, error) {
	if a.Status != StatusProposed && a.Status != StatusPending {
		return nil, nil
	}
	if r.Status == ResponseDeclined {
		return nil, s.transition(ctx, tx, a, StatusCancelled, "declined by participant", now)
	}
	if r.Status != ResponseAccepted {
		return nil, nil
	}
	latest, err := latestResponses(ctx, tx, a.ID)
	if err != nil {
		return nil, err
	}
	for _, participant := range append([]Actor{{Kind: Patient, ID: a.PatientID}}, a.Participants...) {
		if latest[participant] != ResponseAccepted {
			return nil, nil
		}
	}
	if a.Status == StatusPending {
		if !a.HoldExpires.After(now) {
			return fmt.Errorf("hold lapsed at %s: %w", a.HoldExpires.Format(time.RFC3339), ErrHoldExpired), nil
		}
		return nil, s.bookAccepted(ctx, tx, a, "accepted by all participants", now)
	}
	if plan == nil {
		// The appointment became proposed after Respond read it, so no
		// seats were planned.
		return fmt.Errorf("appointment %s changed status during the response, send it again: %w", a.ID, ErrConflict), nil
	}
	err = s.claim(ctx, tx, a, plan.cells, now)
	if errors.Is(err, ErrSlotFull) {
		return err, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, s.bookAccepted(ctx, tx, a, "accepted by all participants", now)
}

// bookAccepted moves a, whose seats are claimed, to booked with its event
// and reminders.
func (s *Service) bookAccepted(ctx context.Context, tx Tx, a *Appointment, reason string, now time.Time) error {
	wasHold := a.Status == StatusPending
	a.Status, a.HoldExpires, a.Version, a.Updated = StatusBooked, time.Time{}, a.Version+1, now
	if err := tx.PutAppointment(ctx, *a, reason); err != nil {
		return err
	}
	if err := emit(ctx, tx, now, "scheduling.appointment.booked", a, nil); err != nil {
		return err
	}
	if err := s.emitReminders(ctx, tx, a, now); err != nil {
		return err
	}
	if wasHold {
		return s.markWaitlist(ctx, tx, a, WaitlistBooked, now)
	}
	return nil
}

// latestResponses returns each participant's latest response status on
// appointment id.
func latestResponses(ctx context.Context, tx Tx, id string) (map[Actor]ResponseStatus, error) {
	list, err := tx.ListResponses(ctx, ResponseFilter{AppointmentIDs: []string{id}})
	if err != nil {
		return nil, err
	}
	out := make(map[Actor]ResponseStatus, len(list))
	for _, r := range list {
		out[r.Participant] = r.Status
	}
	return out, nil
}

// participantRef returns a participant as a reference for events and
// messages: the actor reference, or "Patient" without the patient id.
func participantRef(a Actor) string {
	if a.Kind == Patient {
		return string(Patient)
	}
	return a.String()
}

// GetResponse returns a response by id.
func (s *Service) GetResponse(ctx context.Context, id string) (*Response, error) {
	rs, err := s.responseStore()
	if err != nil {
		return nil, err
	}
	r, err := rs.GetResponse(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.presentResponse(r), nil
}

// ListResponses returns the responses that match f, oldest first.
func (s *Service) ListResponses(ctx context.Context, f ResponseFilter) ([]Response, error) {
	rs, err := s.responseStore()
	if err != nil {
		return nil, err
	}
	list, err := rs.ListResponses(ctx, f)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i] = *s.presentResponse(&list[i])
	}
	return list, nil
}

func (s *Service) responseStore() (ResponseStore, error) {
	rs, ok := s.store.(ResponseStore)
	if !ok {
		return nil, fmt.Errorf("read responses: the store does not implement scheduling.ResponseStore: %w", ErrInvalid)
	}
	return rs, nil
}

func (s *Service) presentResponse(r *Response) *Response {
	out := *r
	out.Created = r.Created.In(s.loc)
	return &out
}
