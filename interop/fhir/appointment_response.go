package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/scheduling"
)

// appointmentResponseResource is the FHIR R4 AppointmentResponse as this
// package writes and reads it.
type appointmentResponseResource struct {
	ResourceType      string     `json:"resourceType"`
	ID                string     `json:"id,omitempty"`
	Meta              *meta      `json:"meta,omitempty"`
	Appointment       *reference `json:"appointment,omitempty"`
	Actor             *reference `json:"actor,omitempty"`
	ParticipantStatus string     `json:"participantStatus"`
	Comment           string     `json:"comment,omitempty"`
}

// responseResourceOf maps a participant response. Responses are never
// changed, so every one is version 1.
func responseResourceOf(r *scheduling.Response) (*emr.Resource, error) {
	body, err := encodeJSON(appointmentResponseResource{
		ResourceType:      "AppointmentResponse",
		ID:                r.ID,
		Meta:              &meta{VersionID: "1", LastUpdated: instant(r.Created)},
		Appointment:       &reference{Reference: "Appointment/" + r.AppointmentID},
		Actor:             &reference{Reference: r.Participant.String()},
		ParticipantStatus: string(r.Status),
		Comment:           r.Comment,
	})
	if err != nil {
		return nil, err
	}
	return &emr.Resource{Type: "AppointmentResponse", ID: r.ID, VersionID: 1, LastUpdated: r.Created, Body: body}, nil
}

// parseParticipant reads a participant reference: a Patient or a
// schedulable actor.
func parseParticipant(ref string) (scheduling.Actor, error) {
	if id, ok := strings.CutPrefix(ref, "Patient/"); ok && emr.ValidID(id) {
		return scheduling.Actor{Kind: scheduling.Patient, ID: id}, nil
	}
	return scheduling.ParseActor(ref)
}

// latestResponses returns the latest response status of each participant
// of the appointments, by appointment id.
func (h *handler) latestResponses(ctx context.Context, list []scheduling.Appointment) (map[string]map[scheduling.Actor]scheduling.ResponseStatus, error) {
	out := map[string]map[scheduling.Actor]scheduling.ResponseStatus{}
	if len(list) == 0 {
		return out, nil
	}
	ids := make([]string, len(list))
	for i, a := range list {
		ids[i] = a.ID
	}
	responses, err := h.cfg.Scheduling.ListResponses(ctx, scheduling.ResponseFilter{AppointmentIDs: ids})
	if err != nil {
		return nil, err
	}
	for _, r := range responses {
		if out[r.AppointmentID] == nil {
			out[r.AppointmentID] = map[scheduling.Actor]scheduling.ResponseStatus{}
		}
		out[r.AppointmentID][r.Participant] = r.Status
	}
	return out, nil
}

// createResponse serves POST AppointmentResponse. An unknown appointment
// or a participant not on it gives 422, because the body, not the URL,
// names them. A closed appointment gives 409. When the last acceptance
// finds the seats of a proposed appointment taken, the response is still
// stored and returned with 201, and the appointment stays proposed.
func (h *handler) createResponse(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if x.r.Header.Get("If-None-Exist") != "" {
		h.fail(x, requestError(http.StatusBadRequest, "not-supported", "conditional create is not supported for AppointmentResponse"))
		return
	}
	body, err := h.readResourceBody(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	p, err := parseResponseBody(body)
	if err != nil {
		h.fail(x, err)
		return
	}
	r, err := h.cfg.Scheduling.Respond(x.ctx, *p)
	switch {
	case errors.Is(err, scheduling.ErrSlotFull) && r != nil:
		h.log.InfoContext(x.ctx, "appointment response stored but the appointment stays unbooked",
			"appointment", p.AppointmentID, "response", r.ID, "error", err)
	case errors.Is(err, scheduling.ErrNotFound):
		h.fail(x, &httpError{status: http.StatusUnprocessableEntity, code: "processing", expression: "AppointmentResponse.appointment",
			message: "AppointmentResponse.appointment: appointment " + p.AppointmentID + " does not exist"})
		return
	case errors.Is(err, scheduling.ErrInvalid):
		h.fail(x, &httpError{status: http.StatusUnprocessableEntity, code: "processing", expression: "AppointmentResponse.actor", message: err.Error()})
		return
	case errors.Is(err, scheduling.ErrInvalidTransition):
		h.fail(x, requestError(http.StatusConflict, "business-rule", err.Error()))
		return
	case err != nil:
		h.fail(x, schedulingError(err))
		return
	}
	res, err := responseResourceOf(r)
	if err != nil {
		h.fail(x, err)
		return
	}
	h.writeWritten(x, http.StatusCreated, res, "created")
}

// parseResponseBody reads an AppointmentResponse body.
func parseResponseBody(body []byte) (*scheduling.RespondParams, error) {
	var in appointmentResponseResource
	if err := json.Unmarshal(body, &in); err != nil || in.ResourceType != "AppointmentResponse" {
		return nil, malformedBody("the body must be a JSON AppointmentResponse resource")
	}
	p := &scheduling.RespondParams{Status: scheduling.ResponseStatus(in.ParticipantStatus), Comment: in.Comment}
	if in.Appointment == nil || in.Appointment.Reference == "" {
		return nil, badElement("required", "AppointmentResponse.appointment", "a reference such as Appointment/[id] is required")
	}
	id, ok := strings.CutPrefix(in.Appointment.Reference, "Appointment/")
	if !ok || !emr.ValidID(id) {
		return nil, badElement("invalid", "AppointmentResponse.appointment", "the reference must look like Appointment/[id]")
	}
	p.AppointmentID = id
	if in.Actor == nil || in.Actor.Reference == "" {
		return nil, badElement("required", "AppointmentResponse.actor", "a reference to the responding participant is required")
	}
	actor, err := parseParticipant(in.Actor.Reference)
	if err != nil {
		return nil, badElement("invalid", "AppointmentResponse.actor", "the actor must reference a Patient, Practitioner, Location, Device or HealthcareService")
	}
	p.Participant = actor
	if in.ParticipantStatus == "" {
		return nil, badElement("required", "AppointmentResponse.participantStatus", "participantStatus is required")
	}
	if !p.Status.Valid() {
		return nil, badElement("invalid", "AppointmentResponse.participantStatus", "participantStatus must be accepted, declined, tentative or needs-action")
	}
	return p, nil
}

func (h *handler) readResponse(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if !emr.ValidID(x.path.id) {
		h.fail(x, invalidID())
		return
	}
	r, err := h.cfg.Scheduling.GetResponse(x.ctx, x.path.id)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	res, err := responseResourceOf(r)
	if err != nil {
		h.fail(x, err)
		return
	}
	h.writeResource(x, http.StatusOK, res)
}

// searchResponses serves AppointmentResponse search by appointment, actor
// and part-status, oldest first. Comma-separated values match any of
// them, and a repeated parameter must match too.
func (h *handler) searchResponses(x *exchange) {
	params, err := h.schedulingParams(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	if err := checkParamNames(params, "appointment", "actor", "part-status", "_count", cursorParam); err != nil {
		h.fail(x, err)
		return
	}
	p, err := parsePage(params)
	if err != nil {
		h.fail(x, err)
		return
	}
	match, err := parseResponseQuery(params)
	if err != nil {
		h.fail(x, err)
		return
	}
	f := scheduling.ResponseFilter{}
	if len(params["appointment"]) == 1 {
		for _, ref := range strings.Split(params.Get("appointment"), ",") {
			f.AppointmentIDs = append(f.AppointmentIDs, strings.TrimPrefix(ref, "Appointment/"))
		}
	}
	if actors := params["actor"]; len(actors) == 1 && !strings.Contains(actors[0], ",") {
		f.Participant, _ = parseParticipant(actors[0]) // parseResponseQuery checked it
	}
	// NOTE: without an appointment or actor the service lists every
	// response, and the page is cut from the matches in memory.
	list, err := h.cfg.Scheduling.ListResponses(x.ctx, f)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	var out []resourceJSON
	for i := range list {
		if !match(&list[i]) {
			continue
		}
		res, err := responseResourceOf(&list[i])
		if err != nil {
			h.fail(x, err)
			return
		}
		out = append(out, resourceJSON{typ: res.Type, id: res.ID, body: res.Body})
		if len(out) >= maxPageWindow {
			break
		}
	}
	h.searchBundle(x, "/AppointmentResponse", params, p, out)
}

// parseResponseQuery returns a check of every appointment, actor and
// part-status value on one response.
func parseResponseQuery(params url.Values) (func(*scheduling.Response) bool, error) {
	var checks []func(*scheduling.Response) bool
	for _, v := range params["appointment"] {
		var ids []string
		for _, ref := range strings.Split(v, ",") {
			ids = append(ids, strings.TrimPrefix(ref, "Appointment/"))
		}
		checks = append(checks, func(r *scheduling.Response) bool { return slices.Contains(ids, r.AppointmentID) })
	}
	for _, v := range params["actor"] {
		var actors []scheduling.Actor
		for _, ref := range strings.Split(v, ",") {
			a, err := parseParticipant(ref)
			if err != nil {
				return nil, requestError(http.StatusBadRequest, "invalid",
					"actor must be a reference to a Patient, Practitioner, Location, Device or HealthcareService")
			}
			actors = append(actors, a)
		}
		checks = append(checks, func(r *scheduling.Response) bool { return slices.Contains(actors, r.Participant) })
	}
	for _, v := range params["part-status"] {
		var statuses []scheduling.ResponseStatus
		for _, code := range strings.Split(v, ",") {
			s := scheduling.ResponseStatus(code)
			if !s.Valid() {
				return nil, requestError(http.StatusBadRequest, "invalid", "part-status must be accepted, declined, tentative or needs-action")
			}
			statuses = append(statuses, s)
		}
		checks = append(checks, func(r *scheduling.Response) bool { return slices.Contains(statuses, r.Status) })
	}
	return func(r *scheduling.Response) bool {
		for _, c := range checks {
			if !c(r) {
				return false
			}
		}
		return true
	}, nil
}
