package fhir

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/scheduling"
)

// appointmentRequest is the change a POST or PUT Appointment body requests.
// Elements the scheduling model does not hold, such as comment,
// description and priority, are not read.
type appointmentRequest struct {
	status    scheduling.Status
	patientID string
	actors    []scheduling.Actor
	code      string
	start     time.Time
	end       time.Time
	slots     []string
	reason    string
}

// badElement returns a 400 naming the element at fault.
func badElement(code, path, message string) error {
	return &httpError{status: http.StatusBadRequest, code: code, expression: path, message: path + ": " + message}
}

// parseAppointmentBody reads the elements of an Appointment body that
// the scheduling service uses.
func parseAppointmentBody(body []byte, loc *time.Location) (*appointmentRequest, error) {
	var in appointmentResource
	if err := json.Unmarshal(body, &in); err != nil || in.ResourceType != "Appointment" {
		return nil, malformedBody("the body must be a JSON Appointment resource")
	}
	req := &appointmentRequest{status: scheduling.Status(in.Status)}
	if in.Status == "" {
		return nil, badElement("required", "Appointment.status", "status is required")
	}
	if !req.status.Valid() {
		return nil, badElement("invalid", "Appointment.status", "status must be an Appointment status code such as booked")
	}
	for i, p := range in.Participant {
		path := fmt.Sprintf("Appointment.participant[%d].actor", i)
		if p.Actor == nil || p.Actor.Reference == "" {
			return nil, badElement("required", path, "every participant needs an actor reference")
		}
		if id, ok := strings.CutPrefix(p.Actor.Reference, "Patient/"); ok {
			if req.patientID != "" {
				return nil, badElement("invalid", path, "an appointment has one patient")
			}
			req.patientID = id
			continue
		}
		a, err := scheduling.ParseActor(p.Actor.Reference)
		if err != nil {
			return nil, badElement("invalid", path, "an actor must reference a Patient, Practitioner, Location, Device or HealthcareService")
		}
		req.actors = append(req.actors, a)
	}
	if req.patientID == "" {
		return nil, badElement("required", "Appointment.participant", "one participant must be the Patient")
	}
	code, err := requestedType(&in)
	if err != nil {
		return nil, err
	}
	req.code = code
	if in.Start != "" {
		if req.start, err = parseInstant(in.Start, loc); err != nil {
			return nil, badElement("invalid", "Appointment.start", "start must be an instant such as 2025-03-03T09:00:00+01:00")
		}
	}
	if in.End != "" {
		if req.end, err = parseInstant(in.End, loc); err != nil {
			return nil, badElement("invalid", "Appointment.end", "end must be an instant such as 2025-03-03T09:20:00+01:00")
		}
	}
	for i, s := range in.Slot {
		id, ok := strings.CutPrefix(s.Reference, "Slot/")
		if !ok || !validSlotID(id) {
			return nil, badElement("invalid", fmt.Sprintf("Appointment.slot[%d]", i), "a slot must be a reference such as Slot/[id]")
		}
		req.slots = append(req.slots, id)
	}
	if in.CancelationReason != nil {
		req.reason = in.CancelationReason.Text
		if req.reason == "" && len(in.CancelationReason.Coding) > 0 {
			req.reason = in.CancelationReason.Coding[0].Code
		}
	}
	return req, nil
}

// requestedType returns the appointment type code of appointmentType or
// serviceType, "" when neither has a coding of AppointmentTypeSystem or
// without a system.
func requestedType(in *appointmentResource) (string, error) {
	var codes []string
	concepts := slices.Clone(in.ServiceType)
	if in.AppointmentType != nil {
		concepts = append(concepts, *in.AppointmentType)
	}
	for _, c := range concepts {
		for _, cd := range c.Coding {
			if (cd.System == AppointmentTypeSystem || cd.System == "") && cd.Code != "" && !slices.Contains(codes, cd.Code) {
				codes = append(codes, cd.Code)
			}
		}
	}
	if len(codes) > 1 {
		return "", badElement("invalid", "Appointment.appointmentType", "appointmentType and serviceType name different appointment types")
	}
	if len(codes) == 0 {
		return "", nil
	}
	return codes[0], nil
}

// resolveSlots fills the start, type and actors of a request from its
// slot references. Every slot must exist and share one start and type.
func (h *handler) resolveSlots(ctx context.Context, req *appointmentRequest) error {
	for i, id := range req.slots {
		path := fmt.Sprintf("Appointment.slot[%d]", i)
		slot, key, err := h.findSlotByID(ctx, id)
		if statusOf(err) == http.StatusNotFound {
			return badElement("invalid", path, "the slot does not exist or has passed")
		}
		if err != nil {
			return err
		}
		if slot.AppointmentType == "" {
			return badElement("invalid", path, "the slot is a grid cell without an appointment type; book a slot from a search with service-type")
		}
		if !req.start.IsZero() && !req.start.Equal(slot.Start) {
			return badElement("invalid", path, "the slot starts at another time than Appointment.start or another slot")
		}
		if req.code != "" && req.code != slot.AppointmentType {
			return badElement("invalid", path, "the slot is for another appointment type than the appointment or another slot")
		}
		req.start, req.code = slot.Start, slot.AppointmentType
		sc, err := h.cfg.Scheduling.GetSchedule(ctx, key.scheduleID)
		if err != nil {
			return err
		}
		if !slices.Contains(req.actors, sc.Actor) {
			req.actors = append(req.actors, sc.Actor)
		}
	}
	return nil
}

// resolveType checks or infers the appointment type and checks the end:
// without a type, the one type whose duration is end minus start is used.
func resolveType(req *appointmentRequest, types map[string]scheduling.AppointmentType) error {
	if req.code == "" {
		if req.end.IsZero() {
			return badElement("required", "Appointment.appointmentType", "give the appointment type, a slot, or an end from which the type follows")
		}
		var matches []string
		for code, t := range types {
			if req.start.Add(t.Duration).Equal(req.end) {
				matches = append(matches, code)
			}
		}
		if len(matches) != 1 {
			return badElement("required", "Appointment.appointmentType",
				"no single appointment type lasts from start to end; name the type with system "+AppointmentTypeSystem)
		}
		req.code = matches[0]
	}
	t, ok := types[req.code]
	if !ok {
		return badElement("invalid", "Appointment.appointmentType", "unknown appointment type "+strconv.Quote(req.code))
	}
	if !req.end.IsZero() && !req.start.Add(t.Duration).Equal(req.end) {
		return badElement("invalid", "Appointment.end",
			fmt.Sprintf("end must be start plus %v, the duration of appointment type %s", t.Duration, t.Code))
	}
	return nil
}

// createAppointment serves POST Appointment: status booked books it and
// status pending holds it for the service's hold time. The body names the
// slots or a start (and optionally an end) with the participants.
func (h *handler) createAppointment(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if x.r.Header.Get("If-None-Exist") != "" {
		h.fail(x, requestError(http.StatusBadRequest, "not-supported", "conditional create is not supported for Appointment"))
		return
	}
	body, err := h.readResourceBody(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	req, err := parseAppointmentBody(body, h.cfg.Scheduling.Location())
	if err != nil {
		h.fail(x, err)
		return
	}
	if req.status != scheduling.StatusBooked && req.status != scheduling.StatusPending {
		h.fail(x, badElement("not-supported", "Appointment.status", "a new appointment must be booked, or pending to hold it"))
		return
	}
	if err := h.resolveSlots(x.ctx, req); err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	if req.start.IsZero() {
		h.fail(x, badElement("required", "Appointment.start", "give a start or a slot"))
		return
	}
	types, err := h.appointmentTypes(x.ctx)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	if err := resolveType(req, types); err != nil {
		h.fail(x, err)
		return
	}
	var a *scheduling.Appointment
	if req.status == scheduling.StatusPending {
		a, err = h.cfg.Scheduling.Hold(x.ctx, scheduling.HoldParams{
			PatientID: req.patientID, AppointmentType: req.code, Actors: req.actors, Start: req.start,
		})
	} else {
		a, err = h.cfg.Scheduling.Book(x.ctx, scheduling.BookParams{
			PatientID: req.patientID, AppointmentType: req.code, Actors: req.actors, Start: req.start,
		})
	}
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	res, err := h.appointmentResponse(x.ctx, a)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	h.writeWritten(x, http.StatusCreated, res, "created")
}

// updateAppointment serves PUT Appointment/[id]. A new status goes
// through the service's transition for it. A new start or new actors
// reschedule: the service cancels this appointment and books a new one,
// and the response is this appointment, cancelled, whose replaced-by
// extension names the new one. A body that changes nothing returns the
// current version.
func (h *handler) updateAppointment(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	ifMatch, err := parseIfMatch(x.r)
	if err != nil {
		h.fail(x, err)
		return
	}
	body, err := h.readResourceBody(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	if err := checkUpdateID("Appointment", x.path.id, body); err != nil {
		h.fail(x, err)
		return
	}
	cur, err := h.cfg.Scheduling.GetAppointment(x.ctx, x.path.id)
	if err != nil {
		if err = schedulingError(err); statusOf(err) == http.StatusNotFound {
			err = requestError(http.StatusNotFound, "not-found", "no appointment has this id; create appointments with POST Appointment")
		}
		h.fail(x, err)
		return
	}
	// NOTE: the version is compared before the service's transaction, so
	// a change committed in between is not caught by If-Match. The
	// service's status rules still hold.
	if ifMatch > 0 && ifMatch != cur.Version {
		h.fail(x, requestError(http.StatusPreconditionFailed, "conflict",
			fmt.Sprintf("If-Match names version %d, but the current version is %d", ifMatch, cur.Version)))
		return
	}
	req, err := parseAppointmentBody(body, h.cfg.Scheduling.Location())
	if err != nil {
		h.fail(x, err)
		return
	}
	a, err := h.applyUpdate(x.ctx, cur, req)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	res, err := h.appointmentResponse(x.ctx, a)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	h.writeWritten(x, http.StatusOK, res, "updated")
}

// applyUpdate makes the one change a PUT body requests and returns the
// appointment after it.
func (h *handler) applyUpdate(ctx context.Context, cur *scheduling.Appointment, req *appointmentRequest) (*scheduling.Appointment, error) {
	if req.patientID != cur.PatientID {
		return nil, badElement("invalid", "Appointment.participant", "the patient of an appointment cannot change")
	}
	if req.code != "" && req.code != cur.AppointmentType {
		return nil, badElement("invalid", "Appointment.appointmentType", "the appointment type cannot change; cancel and book a new appointment")
	}
	if len(req.actors) == 0 {
		return nil, badElement("required", "Appointment.participant",
			"at least one actor besides the patient is required; a PUT sends every participant")
	}
	if !req.end.IsZero() && req.start.IsZero() || !req.end.IsZero() && !req.end.Equal(cur.End) && (req.start.IsZero() || req.start.Equal(cur.Start)) {
		return nil, badElement("invalid", "Appointment.end",
			"the end follows from the start and the appointment type; change start to reschedule")
	}
	if len(req.slots) > 0 && (req.start.IsZero() || req.start.Equal(cur.Start)) && !slotsAtStart(req.slots, cur) {
		return nil, badElement("invalid", "Appointment.slot",
			"a PUT reschedules by start; change start to the new slot's start, or book the new slot and cancel this appointment")
	}
	moved := !req.start.IsZero() && !req.start.Equal(cur.Start)
	actorsChanged := !sameActors(req.actors, cur.Participants)
	statusChanged := req.status != cur.Status
	switch {
	case (moved || actorsChanged) && statusChanged:
		return nil, badElement("invalid", "Appointment.status", "change the status and the time or actors in separate requests")
	case moved || actorsChanged:
		p := scheduling.RescheduleParams{AppointmentID: cur.ID, Start: cur.Start, Reason: req.reason}
		if moved {
			p.Start = req.start
		}
		if actorsChanged {
			p.Actors = req.actors
		}
		if _, err := h.cfg.Scheduling.Reschedule(ctx, p); err != nil {
			return nil, err
		}
		return h.cfg.Scheduling.GetAppointment(ctx, cur.ID)
	case !statusChanged:
		if req.reason != "" && req.reason != cur.CancelReason {
			return nil, badElement("invalid", "Appointment.cancelationReason", "cancelationReason is set when the status changes to cancelled or entered-in-error")
		}
		return cur, nil
	}
	switch req.status {
	case scheduling.StatusCancelled:
		return h.cfg.Scheduling.Cancel(ctx, scheduling.CancelParams{AppointmentID: cur.ID, Reason: req.reason})
	case scheduling.StatusEnteredInError:
		return h.cfg.Scheduling.MarkEnteredInError(ctx, cur.ID, req.reason)
	case scheduling.StatusCheckedIn:
		return h.cfg.Scheduling.CheckIn(ctx, cur.ID)
	case scheduling.StatusArrived:
		return h.cfg.Scheduling.Arrive(ctx, cur.ID)
	case scheduling.StatusFulfilled:
		return h.cfg.Scheduling.Fulfil(ctx, cur.ID)
	case scheduling.StatusNoShow:
		return h.cfg.Scheduling.NoShow(ctx, cur.ID)
	case scheduling.StatusBooked:
		if cur.Status != scheduling.StatusPending {
			return nil, &scheduling.TransitionError{AppointmentID: cur.ID, From: cur.Status, To: req.status}
		}
		return h.cfg.Scheduling.Book(ctx, scheduling.BookParams{HoldID: cur.ID})
	}
	// Proposed, pending and waitlist are not reached by a change of an
	// existing appointment through this interface.
	return nil, &scheduling.TransitionError{AppointmentID: cur.ID, From: cur.Status, To: req.status}
}

// slotsAtStart reports whether every slot id names the appointment's own
// start, as the slots a read of it lists do.
func slotsAtStart(ids []string, cur *scheduling.Appointment) bool {
	marker := fmt.Sprintf(".%d.", cur.Start.Unix())
	for _, id := range ids {
		if !strings.Contains(id, marker) {
			return false
		}
	}
	return true
}

func sameActors(a, b []scheduling.Actor) bool {
	if len(a) != len(b) {
		return false
	}
	for _, actor := range a {
		if !slices.Contains(b, actor) {
			return false
		}
	}
	return true
}
