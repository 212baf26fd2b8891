package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/emr/searchparam"
	"github.com/nexus-health-360/nexus/scheduling"
)

// SchedulingService is the set of scheduling operations the handler calls
// for Schedule, Slot, Appointment and AppointmentResponse when Config.Scheduling is set.
// *scheduling.Service implements it, and a decorator such as an audit or
// authorization layer can wrap it.
type SchedulingService interface {
	GetSchedule(ctx context.Context, id string) (*scheduling.Schedule, error)
	ListSchedules(ctx context.Context, f scheduling.ScheduleFilter) ([]scheduling.Schedule, error)
	CreateSchedule(ctx context.Context, p scheduling.CreateScheduleParams) (*scheduling.Schedule, error)
	ListAvailability(ctx context.Context, scheduleID string) ([]scheduling.Availability, error)
	ListAppointmentTypes(ctx context.Context) ([]scheduling.AppointmentType, error)
	ListSlots(ctx context.Context, p scheduling.ListSlotsParams) ([]scheduling.Slot, error)
	FindSlots(ctx context.Context, p scheduling.FindSlotsParams) ([]scheduling.Slot, error)
	GetAppointment(ctx context.Context, id string) (*scheduling.Appointment, error)
	ListAppointments(ctx context.Context, f scheduling.AppointmentFilter) ([]scheduling.Appointment, error)
	AppointmentHistory(ctx context.Context, id string) ([]scheduling.AppointmentVersion, error)
	Book(ctx context.Context, p scheduling.BookParams) (*scheduling.Appointment, error)
	Hold(ctx context.Context, p scheduling.HoldParams) (*scheduling.Appointment, error)
	Cancel(ctx context.Context, p scheduling.CancelParams) (*scheduling.Appointment, error)
	CheckIn(ctx context.Context, id string) (*scheduling.Appointment, error)
	Arrive(ctx context.Context, id string) (*scheduling.Appointment, error)
	Fulfil(ctx context.Context, id string) (*scheduling.Appointment, error)
	NoShow(ctx context.Context, id string) (*scheduling.Appointment, error)
	MarkEnteredInError(ctx context.Context, id, reason string) (*scheduling.Appointment, error)
	Reschedule(ctx context.Context, p scheduling.RescheduleParams) (*scheduling.Appointment, error)
	Respond(ctx context.Context, p scheduling.RespondParams) (*scheduling.Response, error)
	GetResponse(ctx context.Context, id string) (*scheduling.Response, error)
	ListResponses(ctx context.Context, f scheduling.ResponseFilter) ([]scheduling.Response, error)
	// Location returns the facility's time zone, in which dates without
	// a zone offset are read.
	Location() *time.Location
}

var _ SchedulingService = (*scheduling.Service)(nil)

// AppointmentTypeSystem is the code system of the scheduling appointment
// type codes in Appointment.appointmentType, Appointment.serviceType,
// Slot.serviceType and Schedule.serviceType.
const AppointmentTypeSystem = "urn:nexus-health-360:appointment-type"

// Extension URLs of the Appointment mapping. Replaces is the FHIR R5
// element Appointment.replaces in its R4 cross-version extension.
const (
	extensionReplaces    = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.replaces"
	extensionReplacedBy  = "urn:nexus-health-360:fhir:appointment-replaced-by"
	extensionHoldExpires = "urn:nexus-health-360:fhir:appointment-hold-expires"
)

// findOperation is the path segment of the Nexus slot search operation.
const findOperation = "$find"

// Page sizes of scheduling searches. Pages are cut from the first
// maxPageWindow results, because the service generates slots and lists
// appointments by limit rather than by cursor.
const (
	schedulingDefaultCount = 50
	schedulingMaxCount     = 500
	maxPageWindow          = 5000
)

// isSchedulingType reports whether typ is served by the scheduling backend.
func isSchedulingType(typ string) bool {
	switch typ {
	case "Schedule", "Slot", "Appointment", "AppointmentResponse":
		return true
	}
	return false
}

type serveFunc = func(h *handler, x *exchange)

var (
	scheduleShapes = map[string]shape{
		"/{type}":         {"/{type}", map[string]serveFunc{http.MethodGet: (*handler).searchSchedules, http.MethodPost: (*handler).createSchedule}},
		"/{type}/_search": {"/{type}/_search", map[string]serveFunc{http.MethodPost: (*handler).searchSchedules}},
		"/{type}/{id}":    {"/{type}/{id}", map[string]serveFunc{http.MethodGet: (*handler).readSchedule}},
	}
	slotShapes = map[string]shape{
		"/{type}":         {"/{type}", map[string]serveFunc{http.MethodGet: (*handler).searchSlots}},
		"/{type}/_search": {"/{type}/_search", map[string]serveFunc{http.MethodPost: (*handler).searchSlots}},
		"/{type}/{id}":    {"/{type}/{id}", map[string]serveFunc{http.MethodGet: (*handler).readSlot}},
	}
	appointmentShapes = map[string]shape{
		"/{type}":                     {"/{type}", map[string]serveFunc{http.MethodGet: (*handler).searchAppointments, http.MethodPost: (*handler).createAppointment}},
		"/{type}/_search":             {"/{type}/_search", map[string]serveFunc{http.MethodPost: (*handler).searchAppointments}},
		"/{type}/{id}":                {"/{type}/{id}", map[string]serveFunc{http.MethodGet: (*handler).readAppointment, http.MethodPut: (*handler).updateAppointment}},
		"/{type}/{id}/_history":       {"/{type}/{id}/_history", map[string]serveFunc{http.MethodGet: (*handler).appointmentHistory}},
		"/{type}/{id}/_history/{vid}": {"/{type}/{id}/_history/{vid}", map[string]serveFunc{http.MethodGet: (*handler).vreadAppointment}},
		"/Appointment/$find":          {"/Appointment/$find", map[string]serveFunc{http.MethodGet: (*handler).findSlots, http.MethodPost: (*handler).findSlots}},
	}
	responseShapes = map[string]shape{
		"/{type}":         {"/{type}", map[string]serveFunc{http.MethodGet: (*handler).searchResponses, http.MethodPost: (*handler).createResponse}},
		"/{type}/_search": {"/{type}/_search", map[string]serveFunc{http.MethodPost: (*handler).searchResponses}},
		"/{type}/{id}":    {"/{type}/{id}", map[string]serveFunc{http.MethodGet: (*handler).readResponse}},
	}
)

// schedulingRoute replaces the route matched by matchRoute when the path
// names a type the scheduling backend serves, and guards batches and
// transactions so they cannot write those types to the clinical record.
// Other requests keep the matched route.
func (h *handler) schedulingRoute(method, path string, matched route, values pathValues) (route, pathValues) {
	trimmed := strings.Trim(path, "/")
	if trimmed == "" {
		if method == http.MethodPost {
			return route{pattern: matched.pattern, serve: func(h *handler, x *exchange) {
				h.serveBundleWithout(x, "scheduling service", isSchedulingType, (*handler).processBundle)
			}}, values
		}
		return matched, values
	}
	segments := strings.Split(trimmed, "/")
	typ := segments[0]
	if !isSchedulingType(typ) {
		return matched, values
	}

	p := pathValues{typ: typ}
	var key string
	switch {
	case len(segments) == 1:
		key = "/{type}"
	case len(segments) == 2 && segments[1] == "_search":
		key = "/{type}/_search"
	case len(segments) == 2 && segments[1] == findOperation && typ == "Appointment":
		key = "/Appointment/$find"
	case len(segments) == 2 && !isOperation(segments[1]) && segments[1] != "_history":
		key, p.id = "/{type}/{id}", segments[1]
	case len(segments) == 3 && segments[2] == "_history" && !isOperation(segments[1]):
		key, p.id = "/{type}/{id}/_history", segments[1]
	case len(segments) == 4 && segments[2] == "_history" && !isOperation(segments[1]):
		key, p.id, p.version = "/{type}/{id}/_history/{vid}", segments[1], segments[3]
	}

	shapes := map[string]map[string]shape{
		"Schedule": scheduleShapes, "Slot": slotShapes, "Appointment": appointmentShapes, "AppointmentResponse": responseShapes,
	}[typ]
	s, ok := shapes[key]
	if !ok {
		return notFoundRoute("this interaction is not served for " + typ + ", which the scheduling service backs; the CapabilityStatement lists what is served"), p
	}
	if method == http.MethodHead {
		method = http.MethodGet
	}
	serve, ok := s.methods[method]
	if !ok {
		return methodNotAllowedRoute(s), p
	}
	return route{pattern: s.pattern, serve: serve}, p
}

// schedulingError maps an error of the scheduling service to its status
// and FHIR issue code. Scheduling messages name ids, fields and statuses,
// never a patient id, so they become diagnostics. Other errors pass
// unchanged and fail with 500.
func schedulingError(err error) error {
	var te *scheduling.TransitionError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return requestError(http.StatusConflict, "business-rule", te.Error())
	case errors.Is(err, scheduling.ErrNotFound):
		return requestError(http.StatusNotFound, "not-found", err.Error())
	case errors.Is(err, scheduling.ErrInvalid):
		return requestError(http.StatusBadRequest, "invalid", err.Error())
	case errors.Is(err, scheduling.ErrConflict):
		return requestError(http.StatusConflict, "conflict", err.Error())
	}
	return err
}

// schedulingParams returns the search parameters of a request: the query
// and, for POST, the form body, without _format and _pretty.
func (h *handler) schedulingParams(x *exchange) (url.Values, error) {
	params := url.Values{}
	for name, values := range x.query {
		if !formatParams[name] {
			params[name] = append(params[name], values...)
		}
	}
	if x.r.Method != http.MethodPost {
		return params, nil
	}
	body, err := h.readBody(x, true)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, requestError(http.StatusBadRequest, "invalid", "the form body is not valid URL encoding")
	}
	for name, values := range form {
		if !formatParams[name] {
			params[name] = append(params[name], values...)
		}
	}
	return params, nil
}

// checkParamNames rejects a parameter that is not in allowed, naming the
// ones that are.
func checkParamNames(params url.Values, allowed ...string) error {
	for name := range params {
		ok := false
		for _, a := range allowed {
			ok = ok || name == a
		}
		if !ok {
			return requestError(http.StatusBadRequest, "not-supported",
				"parameter "+name+" is not supported here; use "+strings.Join(allowed, ", "))
		}
	}
	return nil
}

// page is the window of results one searchset returns: offset results
// skipped, then count.
type page struct {
	offset, count int
}

// parsePage reads _count and the _cursor of a next link, which holds the
// offset.
func parsePage(params url.Values) (page, error) {
	p := page{count: schedulingDefaultCount}
	if v := params.Get("_count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, requestError(http.StatusBadRequest, "invalid", "_count must be a positive integer")
		}
		p.count = min(n, schedulingMaxCount)
	}
	if v := params.Get(cursorParam); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, requestError(http.StatusBadRequest, "invalid", "_cursor must be a cursor from a next link")
		}
		p.offset = n
	}
	if p.offset+p.count > maxPageWindow {
		return p, requestError(http.StatusBadRequest, "too-costly",
			"paging stops after "+strconv.Itoa(maxPageWindow)+" results; narrow the search")
	}
	return p, nil
}

// limit is how many results to fetch to fill the page and learn whether a
// next page exists.
func (p page) limit() int { return p.offset + p.count + 1 }

// searchBundle writes a searchset of the page cut from all, with self and
// next links that keep the query.
func (h *handler) searchBundle(x *exchange, path string, params url.Values, p page, all []resourceJSON) {
	b := newBundle("searchset")
	self := url.Values{}
	for name, values := range params {
		self[name] = values
	}
	b.Link = append(b.Link, bundleLink{Relation: "self", URL: x.link(path, self)})
	if len(all) > p.offset+p.count {
		next := url.Values{}
		for name, values := range params {
			next[name] = values
		}
		next.Set(cursorParam, strconv.Itoa(p.offset+p.count))
		b.Link = append(b.Link, bundleLink{Relation: "next", URL: x.link(path, next)})
	}
	if p.offset < len(all) {
		for _, r := range all[p.offset:min(len(all), p.offset+p.count)] {
			b.Entry = append(b.Entry, bundleEntry{
				FullURL:  x.base + "/" + r.typ + "/" + r.id,
				Resource: r.body,
				Search:   &entrySearch{Mode: "match"},
			})
		}
	}
	h.writeJSON(x, http.StatusOK, b)
}

// resourceJSON is a resource built from scheduling data, encoded.
type resourceJSON struct {
	typ, id string
	body    json.RawMessage
}

func encodeResource(typ, id string, v any) (resourceJSON, error) {
	body, err := encodeJSON(v)
	return resourceJSON{typ: typ, id: id, body: body}, err
}

// Shared FHIR data types of the scheduling mapping.
type (
	reference struct {
		Reference string `json:"reference,omitempty"`
		Display   string `json:"display,omitempty"`
	}
	coding struct {
		System  string `json:"system,omitempty"`
		Code    string `json:"code,omitempty"`
		Display string `json:"display,omitempty"`
	}
	codeableConcept struct {
		Coding []coding `json:"coding,omitempty"`
		Text   string   `json:"text,omitempty"`
	}
	period struct {
		Start string `json:"start,omitempty"`
		End   string `json:"end,omitempty"`
	}
	extension struct {
		URL            string     `json:"url"`
		ValueReference *reference `json:"valueReference,omitempty"`
		ValueInstant   string     `json:"valueInstant,omitempty"`
	}
	meta struct {
		VersionID   string `json:"versionId,omitempty"`
		LastUpdated string `json:"lastUpdated,omitempty"`
	}
)

// typeConcept returns the CodeableConcept of an appointment type code.
func typeConcept(code string, displays map[string]string) codeableConcept {
	return codeableConcept{Coding: []coding{{System: AppointmentTypeSystem, Code: code, Display: displays[code]}}}
}

// typeCode returns the appointment type code of a token search value or
// coding: "code" or "system|code" with system AppointmentTypeSystem.
func typeCode(token string) (string, error) {
	system, code, ok := strings.Cut(token, "|")
	if !ok {
		return token, nil
	}
	if system != "" && system != AppointmentTypeSystem {
		return "", requestError(http.StatusBadRequest, "invalid", "appointment types use the system "+AppointmentTypeSystem)
	}
	return code, nil
}

// appointmentTypes returns the appointment types by code.
func (h *handler) appointmentTypes(ctx context.Context) (map[string]scheduling.AppointmentType, error) {
	list, err := h.cfg.Scheduling.ListAppointmentTypes(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]scheduling.AppointmentType, len(list))
	for _, t := range list {
		out[t.Code] = t
	}
	return out, nil
}

func typeDisplays(types map[string]scheduling.AppointmentType) map[string]string {
	out := make(map[string]string, len(types))
	for code, t := range types {
		out[code] = t.Display
	}
	return out
}

// dateTime formats t as a FHIR dateTime in t's zone with its offset, with
// fractional seconds only when t has them.
func dateTime(t time.Time) string { return t.Format(time.RFC3339Nano) }

// parseActorRef reads a reference to a schedulable actor, such as
// "Practitioner/p1", and rejects other types.
func parseActorRef(ref string) (scheduling.Actor, error) {
	a, err := scheduling.ParseActor(ref)
	if err != nil {
		return a, requestError(http.StatusBadRequest, "invalid",
			"an actor must be a reference to a Practitioner, Location, Device or HealthcareService, such as Practitioner/p1")
	}
	return a, nil
}

// parseActorList reads a comma-separated list of actor references.
func parseActorList(value string) ([]scheduling.Actor, error) {
	var out []scheduling.Actor
	for _, ref := range strings.Split(value, ",") {
		a, err := parseActorRef(ref)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// schedulingCapabilities lists what the handler serves for the scheduling
// types, with each search parameter's definition from the registry.
func schedulingCapabilities(registry *searchparam.Registry) []capResource {
	interactions := func(codes ...string) []capInteraction {
		out := make([]capInteraction, len(codes))
		for i, c := range codes {
			out[i] = capInteraction{Code: c}
		}
		return out
	}
	params := func(typ string, names ...string) []capSearchParam {
		out := make([]capSearchParam, 0, len(names))
		for _, name := range names {
			if def, ok := registry.Lookup(typ, name); ok {
				out = append(out, capSearchParam{Name: name, Definition: def.URL, Type: string(def.Type)})
			}
		}
		return out
	}
	base := capResource{
		Versioning:        "no-version",
		ConditionalRead:   "not-supported",
		ConditionalDelete: "not-supported",
		Operation:         []capOperation{},
	}
	schedule, slot, appointment, response := base, base, base, base
	schedule.Type = "Schedule"
	schedule.Interaction = interactions("read", "create", "search-type")
	schedule.SearchParam = params("Schedule", "active", "actor")
	slot.Type = "Slot"
	slot.Interaction = interactions("read", "search-type")
	slot.SearchParam = params("Slot", "schedule", "service-type", "start", "status")
	appointment.Type = "Appointment"
	appointment.Interaction = interactions("read", "vread", "update", "history-instance", "create", "search-type")
	appointment.Versioning = "versioned-update"
	appointment.ReadHistory = true
	appointment.ConditionalRead = "full-support"
	appointment.SearchParam = params("Appointment", "actor", "date", "patient", "service-type", "status")
	appointment.Operation = []capOperation{{Name: "find", Definition: "urn:nexus-health-360:fhir:OperationDefinition:Appointment-find"}}
	response.Type = "AppointmentResponse"
	response.Interaction = interactions("read", "create", "search-type")
	response.SearchParam = params("AppointmentResponse", "actor", "appointment", "part-status")
	return []capResource{appointment, response, schedule, slot}
}
