package fhir

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/scheduling"
)

// appointmentResource is the FHIR R4 Appointment as this package writes
// and reads it.
type appointmentResource struct {
	ResourceType      string            `json:"resourceType"`
	ID                string            `json:"id,omitempty"`
	Meta              *meta             `json:"meta,omitempty"`
	Extension         []extension       `json:"extension,omitempty"`
	Status            string            `json:"status"`
	CancelationReason *codeableConcept  `json:"cancelationReason,omitempty"`
	ServiceType       []codeableConcept `json:"serviceType,omitempty"`
	AppointmentType   *codeableConcept  `json:"appointmentType,omitempty"`
	Start             string            `json:"start,omitempty"`
	End               string            `json:"end,omitempty"`
	MinutesDuration   int               `json:"minutesDuration,omitempty"`
	Slot              []reference       `json:"slot,omitempty"`
	Created           string            `json:"created,omitempty"`
	Participant       []participant     `json:"participant"`
}

type participant struct {
	Actor    *reference `json:"actor,omitempty"`
	Required string     `json:"required,omitempty"`
	Status   string     `json:"status,omitempty"`
}

// participantStatus returns the participation status every participant
// has in an appointment of status s: a hold is tentative, a request
// needs action, and every other status was accepted when it was booked.
func participantStatus(s scheduling.Status) string {
	switch s {
	case scheduling.StatusPending:
		return "tentative"
	case scheduling.StatusProposed, scheduling.StatusWaitlist:
		return "needs-action"
	}
	return "accepted"
}

// appointmentResourceOf maps an appointment onto a FHIR Appointment. c
// gives the schedule id of each actor that has one, for the slot
// references, and the latest response of each participant, for
// participant.status.
func appointmentResourceOf(a *scheduling.Appointment, c *appointmentContext) (*emr.Resource, error) {
	schedules, displays := c.schedules, c.displays
	res := appointmentResource{
		ResourceType: "Appointment",
		ID:           a.ID,
		Meta:         &meta{VersionID: strconv.FormatInt(a.Version, 10), LastUpdated: instant(a.Updated)},
		Status:       string(a.Status),
		Start:        dateTime(a.Start),
		End:          dateTime(a.End),
		Created:      dateTime(a.Created),
	}
	if minutes := int(a.End.Sub(a.Start).Minutes()); minutes > 0 {
		res.MinutesDuration = minutes
	}
	if a.Replaces != "" {
		res.Extension = append(res.Extension, extension{URL: extensionReplaces, ValueReference: &reference{Reference: "Appointment/" + a.Replaces}})
	}
	if a.ReplacedBy != "" {
		res.Extension = append(res.Extension, extension{URL: extensionReplacedBy, ValueReference: &reference{Reference: "Appointment/" + a.ReplacedBy}})
	}
	if !a.HoldExpires.IsZero() {
		res.Extension = append(res.Extension, extension{URL: extensionHoldExpires, ValueInstant: instant(a.HoldExpires)})
	}
	if a.CancelReason != "" && (a.Status == scheduling.StatusCancelled || a.Status == scheduling.StatusEnteredInError) {
		res.CancelationReason = &codeableConcept{Text: a.CancelReason}
	}
	if a.AppointmentType != "" {
		concept := typeConcept(a.AppointmentType, displays)
		res.AppointmentType = &concept
		res.ServiceType = []codeableConcept{concept}
	}
	status := func(who scheduling.Actor) string {
		if s, ok := c.responses[a.ID][who]; ok {
			return string(s)
		}
		return participantStatus(a.Status)
	}
	patient := scheduling.Actor{Kind: scheduling.Patient, ID: a.PatientID}
	res.Participant = append(res.Participant, participant{
		Actor: &reference{Reference: "Patient/" + a.PatientID}, Required: "required", Status: status(patient),
	})
	for _, actor := range a.Participants {
		res.Participant = append(res.Participant, participant{
			Actor: &reference{Reference: actor.String()}, Required: "required", Status: status(actor),
		})
		if id, ok := schedules[actor]; ok {
			res.Slot = append(res.Slot, reference{Reference: "Slot/" + slotID(id, a.Start, a.AppointmentType)})
		}
	}
	body, err := encodeJSON(res)
	if err != nil {
		return nil, err
	}
	return &emr.Resource{Type: "Appointment", ID: a.ID, VersionID: a.Version, LastUpdated: a.Updated, Body: body}, nil
}

// appointmentContext is the data that mapping appointments needs besides
// the appointments: schedule ids by actor, appointment types and the
// latest response status by appointment id and participant.
type appointmentContext struct {
	schedules map[scheduling.Actor]string
	displays  map[string]string
	types     map[string]scheduling.AppointmentType
	responses map[string]map[scheduling.Actor]scheduling.ResponseStatus
}

func (h *handler) appointmentContext(ctx context.Context, list []scheduling.Appointment) (*appointmentContext, error) {
	types, err := h.appointmentTypes(ctx)
	if err != nil {
		return nil, err
	}
	c := &appointmentContext{schedules: map[scheduling.Actor]string{}, displays: typeDisplays(types), types: types}
	if c.responses, err = h.latestResponses(ctx, list); err != nil {
		return nil, err
	}
	var actors []scheduling.Actor
	for _, a := range list {
		for _, actor := range a.Participants {
			if !slices.Contains(actors, actor) {
				actors = append(actors, actor)
			}
		}
	}
	if len(actors) == 0 {
		return c, nil
	}
	schedules, err := h.cfg.Scheduling.ListSchedules(ctx, scheduling.ScheduleFilter{Actors: actors})
	if err != nil {
		return nil, err
	}
	for _, sc := range schedules {
		c.schedules[sc.Actor] = sc.ID
	}
	return c, nil
}

// appointmentResponse maps one appointment.
func (h *handler) appointmentResponse(ctx context.Context, a *scheduling.Appointment) (*emr.Resource, error) {
	c, err := h.appointmentContext(ctx, []scheduling.Appointment{*a})
	if err != nil {
		return nil, err
	}
	return appointmentResourceOf(a, c)
}

func (h *handler) readAppointment(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if !emr.ValidID(x.path.id) {
		h.fail(x, invalidID())
		return
	}
	a, err := h.cfg.Scheduling.GetAppointment(x.ctx, x.path.id)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	res, err := h.appointmentResponse(x.ctx, a)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	if notModified(x.r, res) {
		setVersionHeaders(x.w.Header(), res)
		x.w.WriteHeader(http.StatusNotModified)
		return
	}
	h.writeResource(x, http.StatusOK, res)
}

// appointmentQuery is a parsed Appointment search. The filter goes to the
// service, and the other fields are checked on each appointment it returns.
type appointmentQuery struct {
	filter   scheduling.AppointmentFilter
	actorAll [][]scheduling.Actor
	patients []string
	codes    []string
	bounds   startBounds
}

// parseAppointmentQuery reads actor, patient, date, status and
// service-type. Comma-separated values of one parameter match any of
// them, and repeated parameters must all match. An actor value may be a
// Patient reference, which then works as patient does.
func (h *handler) parseAppointmentQuery(params url.Values) (*appointmentQuery, error) {
	q := &appointmentQuery{}
	for _, v := range params["patient"] {
		q.addPatients(strings.Split(v, ","))
	}
	for _, v := range params["actor"] {
		var patients []string
		var actors []scheduling.Actor
		for _, ref := range strings.Split(v, ",") {
			if id, ok := strings.CutPrefix(ref, "Patient/"); ok {
				patients = append(patients, id)
				continue
			}
			a, err := parseActorRef(ref)
			if err != nil {
				return nil, err
			}
			actors = append(actors, a)
		}
		switch {
		case len(patients) > 0 && len(actors) > 0:
			return nil, requestError(http.StatusBadRequest, "not-supported", "one actor value may not mix Patient with other actors")
		case len(patients) > 0:
			q.addPatients(patients)
		default:
			q.actorAll = append(q.actorAll, actors)
		}
	}
	if len(q.actorAll) > 0 {
		q.filter.Actors = q.actorAll[0]
	}
	if len(q.patients) == 1 {
		q.filter.PatientID = q.patients[0]
	}
	loc := h.cfg.Scheduling.Location()
	for _, v := range params["date"] {
		if err := q.bounds.add("date", v, loc); err != nil {
			return nil, err
		}
	}
	q.filter.From, q.filter.To = q.bounds.from, q.bounds.to
	for i, v := range params["status"] {
		var statuses []scheduling.Status
		for _, code := range strings.Split(v, ",") {
			s := scheduling.Status(code)
			if !s.Valid() {
				return nil, requestError(http.StatusBadRequest, "invalid", "status must be an Appointment status code such as booked or cancelled")
			}
			if i == 0 || slices.Contains(q.filter.Statuses, s) {
				statuses = append(statuses, s)
			}
		}
		q.filter.Statuses = statuses
		if len(statuses) == 0 {
			q.filter.Statuses = []scheduling.Status{"none"}
		}
	}
	for i, v := range params["service-type"] {
		var codes []string
		for _, token := range strings.Split(v, ",") {
			code, err := typeCode(token)
			if err != nil {
				return nil, err
			}
			if i == 0 || slices.Contains(q.codes, code) {
				codes = append(codes, code)
			}
		}
		q.codes = codes
		if len(codes) == 0 {
			q.codes = []string{""}
		}
	}
	return q, nil
}

// addPatients narrows the patients to ids, all of them when none were set.
func (q *appointmentQuery) addPatients(refs []string) {
	var ids []string
	for _, ref := range refs {
		id := strings.TrimPrefix(ref, "Patient/")
		if q.patients == nil || slices.Contains(q.patients, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		ids = []string{""} // no patient has the empty id
	}
	q.patients = ids
}

// matches checks what the service filter cannot.
func (q *appointmentQuery) matches(a *scheduling.Appointment) bool {
	if q.patients != nil && !slices.Contains(q.patients, a.PatientID) {
		return false
	}
	if q.codes != nil && !slices.Contains(q.codes, a.AppointmentType) {
		return false
	}
	if !q.bounds.contains(a.Start) {
		return false
	}
	for _, alternatives := range q.actorAll {
		if !slices.ContainsFunc(alternatives, func(actor scheduling.Actor) bool { return slices.Contains(a.Participants, actor) }) {
			return false
		}
	}
	return true
}

// searchAppointments serves Appointment search, ordered by start and id.
func (h *handler) searchAppointments(x *exchange) {
	params, err := h.schedulingParams(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	if err := checkParamNames(params, "actor", "patient", "date", "status", "service-type", "_count", cursorParam); err != nil {
		h.fail(x, err)
		return
	}
	p, err := parsePage(params)
	if err != nil {
		h.fail(x, err)
		return
	}
	q, err := h.parseAppointmentQuery(params)
	if err != nil {
		h.fail(x, err)
		return
	}
	var matched []scheduling.Appointment
	for limit := p.limit(); ; limit = min(2*limit, maxPageWindow) {
		q.filter.Limit = limit
		list, err := h.cfg.Scheduling.ListAppointments(x.ctx, q.filter)
		if err != nil {
			h.fail(x, schedulingError(err))
			return
		}
		matched = matched[:0]
		for i := range list {
			if q.matches(&list[i]) {
				matched = append(matched, list[i])
			}
		}
		if len(matched) >= p.limit() || len(list) < limit || limit >= maxPageWindow {
			break
		}
	}
	c, err := h.appointmentContext(x.ctx, matched)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	out := make([]resourceJSON, 0, len(matched))
	for i := range matched {
		res, err := appointmentResourceOf(&matched[i], c)
		if err != nil {
			h.fail(x, err)
			return
		}
		out = append(out, resourceJSON{typ: res.Type, id: res.ID, body: res.Body})
	}
	h.searchBundle(x, "/Appointment", params, p, out)
}

// appointmentVersions returns each recorded version of an appointment as
// a resource, oldest first.
//
// NOTE: the service keeps the status, start, end and reason of each
// version. Participants, type and the reschedule links of every version
// are those of the current one.
func (h *handler) appointmentVersions(ctx context.Context, id string) ([]*emr.Resource, error) {
	a, err := h.cfg.Scheduling.GetAppointment(ctx, id)
	if err != nil {
		return nil, err
	}
	versions, err := h.cfg.Scheduling.AppointmentHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := h.appointmentContext(ctx, []scheduling.Appointment{*a})
	if err != nil {
		return nil, err
	}
	out := make([]*emr.Resource, 0, len(versions))
	for _, v := range versions {
		snapshot := *a
		snapshot.Version, snapshot.Status, snapshot.Start, snapshot.End, snapshot.Updated = v.Version, v.Status, v.Start, v.End, v.Time
		snapshot.CancelReason = v.Reason
		if v.Version != a.Version {
			snapshot.HoldExpires = time.Time{} // only the current expiry is kept
		}
		res, err := appointmentResourceOf(&snapshot, c)
		if err != nil {
			return nil, err
		}
		res.Method = "update"
		if v.Version == 1 {
			res.Method = "create"
		}
		out = append(out, res)
	}
	return out, nil
}

// appointmentHistory serves GET Appointment/[id]/_history, newest first,
// in one page.
func (h *handler) appointmentHistory(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if !emr.ValidID(x.path.id) {
		h.fail(x, invalidID())
		return
	}
	versions, err := h.appointmentVersions(x.ctx, x.path.id)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	b := newBundle("history")
	path := "/Appointment/" + x.path.id + "/_history"
	b.Link = append(b.Link, bundleLink{Relation: "self", URL: x.link(path, nil)})
	for i := len(versions) - 1; i >= 0; i-- {
		b.Entry = append(b.Entry, x.historyEntry(versions[i]))
	}
	h.writeJSON(x, http.StatusOK, b)
}

func (h *handler) vreadAppointment(x *exchange) {
	version, err := vreadTarget(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	versions, err := h.appointmentVersions(x.ctx, x.path.id)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	for _, res := range versions {
		if res.VersionID == version {
			h.writeResource(x, http.StatusOK, res)
			return
		}
	}
	h.fail(x, requestError(http.StatusNotFound, "not-found", "the appointment has no such version"))
}
