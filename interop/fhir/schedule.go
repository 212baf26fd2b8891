package fhir

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/scheduling"
)

// scheduleResource is the FHIR R4 Schedule as this package writes it.
type scheduleResource struct {
	ResourceType    string            `json:"resourceType"`
	ID              string            `json:"id,omitempty"`
	Meta            *meta             `json:"meta,omitempty"`
	Active          *bool             `json:"active,omitempty"`
	ServiceType     []codeableConcept `json:"serviceType,omitempty"`
	Actor           []reference       `json:"actor"`
	PlanningHorizon *period           `json:"planningHorizon,omitempty"`
}

// scheduleJSON maps a schedule onto a FHIR Schedule. serviceType lists the
// appointment types its availability rules allow, every type when one
// rule allows all. planningHorizon is the span of the rules when each of
// them is bounded.
func (h *handler) scheduleJSON(ctx context.Context, sc *scheduling.Schedule, types map[string]scheduling.AppointmentType) (resourceJSON, error) {
	rules, err := h.cfg.Scheduling.ListAvailability(ctx, sc.ID)
	if err != nil {
		return resourceJSON{}, err
	}
	active := sc.Active
	res := scheduleResource{
		ResourceType: "Schedule",
		ID:           sc.ID,
		Meta:         &meta{LastUpdated: instant(sc.Updated)},
		Active:       &active,
		Actor:        []reference{{Reference: sc.Actor.String(), Display: sc.Name}},
	}
	if sc.LocationID != "" && sc.Actor != (scheduling.Actor{Kind: scheduling.Location, ID: sc.LocationID}) {
		res.Actor = append(res.Actor, reference{Reference: "Location/" + sc.LocationID})
	}
	displays := typeDisplays(types)
	for _, code := range allowedTypes(rules, types) {
		res.ServiceType = append(res.ServiceType, typeConcept(code, displays))
	}
	zone := h.cfg.Scheduling.Location()
	if sc.TimeZone != "" {
		if loc, err := time.LoadLocation(sc.TimeZone); err == nil {
			zone = loc
		}
	}
	res.PlanningHorizon = planningHorizon(rules, zone, h.cfg.Scheduling.Location())
	return encodeResource("Schedule", sc.ID, res)
}

// allowedTypes returns the sorted codes the rules offer slots for.
func allowedTypes(rules []scheduling.Availability, types map[string]scheduling.AppointmentType) []string {
	set := map[string]bool{}
	for _, r := range rules {
		if r.Kind == scheduling.Exception {
			continue
		}
		if len(r.AppointmentTypes) == 0 {
			for code := range types {
				set[code] = true
			}
			continue
		}
		for _, code := range r.AppointmentTypes {
			set[code] = true
		}
	}
	codes := make([]string, 0, len(set))
	for code := range set {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	return codes
}

// planningHorizon returns the period the weekly rules and additions cover,
// nil when there are none or one of them is unbounded at both ends. An end
// or start is left out when some rule is unbounded on that side. Weekly
// rule dates are read in zone, and the period is written in facility.
func planningHorizon(rules []scheduling.Availability, zone, facility *time.Location) *period {
	var start, end time.Time
	openStart, openEnd, found := false, false, false
	for _, r := range rules {
		var lo, hi time.Time
		switch r.Kind {
		case scheduling.Exception:
			continue
		case scheduling.Weekly:
			if !r.ValidFrom.IsZero() {
				lo = time.Date(r.ValidFrom.Year, r.ValidFrom.Month, r.ValidFrom.Day, 0, 0, 0, 0, zone)
			}
			if !r.ValidUntil.IsZero() {
				hi = time.Date(r.ValidUntil.Year, r.ValidUntil.Month, r.ValidUntil.Day+1, 0, 0, 0, 0, zone)
			}
		default:
			lo, hi = r.Start, r.End
		}
		found = true
		openStart = openStart || lo.IsZero()
		openEnd = openEnd || hi.IsZero()
		if !lo.IsZero() && (start.IsZero() || lo.Before(start)) {
			start = lo
		}
		if hi.After(end) {
			end = hi
		}
	}
	if !found || (openStart && openEnd) {
		return nil
	}
	p := &period{}
	if !openStart {
		p.Start = dateTime(start.In(facility))
	}
	if !openEnd {
		p.End = dateTime(end.In(facility))
	}
	return p
}

func (h *handler) readSchedule(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if !emr.ValidID(x.path.id) {
		h.fail(x, invalidID())
		return
	}
	sc, err := h.cfg.Scheduling.GetSchedule(x.ctx, x.path.id)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	types, err := h.appointmentTypes(x.ctx)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	res, err := h.scheduleJSON(x.ctx, sc, types)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	x.w.Header().Set("Last-Modified", sc.Updated.UTC().Format(http.TimeFormat))
	h.writeBytes(x, http.StatusOK, res.body)
}

// searchSchedules serves Schedule search by actor (a comma-separated list
// of references, any of which matches) and active.
func (h *handler) searchSchedules(x *exchange) {
	params, err := h.schedulingParams(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	if err := checkParamNames(params, "actor", "active", "_count", cursorParam); err != nil {
		h.fail(x, err)
		return
	}
	p, err := parsePage(params)
	if err != nil {
		h.fail(x, err)
		return
	}

	var f scheduling.ScheduleFilter
	for _, v := range params["actor"] {
		actors, err := parseActorList(v)
		if err != nil {
			h.fail(x, err)
			return
		}
		if f.Actors != nil {
			f.Actors = intersectActors(f.Actors, actors)
			if len(f.Actors) == 0 {
				h.searchBundle(x, "/Schedule", params, p, nil)
				return
			}
			continue
		}
		f.Actors = actors
	}
	active := ""
	if values := params["active"]; len(values) > 0 {
		active = values[len(values)-1]
		if active != "true" && active != "false" {
			h.fail(x, requestError(http.StatusBadRequest, "invalid", "active must be true or false"))
			return
		}
		f.ActiveOnly = active == "true"
	}

	list, err := h.cfg.Scheduling.ListSchedules(x.ctx, f)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	types, err := h.appointmentTypes(x.ctx)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	var out []resourceJSON
	for i := range list {
		if active == "false" && list[i].Active {
			continue
		}
		if len(out) == p.limit() {
			break
		}
		res, err := h.scheduleJSON(x.ctx, &list[i], types)
		if err != nil {
			h.fail(x, schedulingError(err))
			return
		}
		out = append(out, res)
	}
	h.searchBundle(x, "/Schedule", params, p, out)
}

func intersectActors(a, b []scheduling.Actor) []scheduling.Actor {
	var out []scheduling.Actor
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
			}
		}
	}
	return out
}

// createSchedule serves POST Schedule. actor[0] is the schedule's actor,
// and its display is the schedule's name. A further Location actor is the
// location the actor works at. The schedule uses the facility's zone and
// grid and no overbooking. Availability and appointment types are set
// through the Go API, because R4 has no resource for availability rules.
func (h *handler) createSchedule(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if x.r.Header.Get("If-None-Exist") != "" {
		h.fail(x, requestError(http.StatusBadRequest, "not-supported", "conditional create is not supported for Schedule"))
		return
	}
	body, err := h.readResourceBody(x)
	if err != nil {
		h.fail(x, err)
		return
	}

	var in scheduleResource
	if err := json.Unmarshal(body, &in); err != nil || in.ResourceType != "Schedule" {
		h.fail(x, malformedBody("the body must be a JSON Schedule resource"))
		return
	}
	if len(in.Actor) == 0 || len(in.Actor) > 2 {
		h.fail(x, &httpError{status: http.StatusBadRequest, code: "required", expression: "Schedule.actor",
			message: "Schedule.actor must name the schedulable actor, optionally followed by the Location it works at"})
		return
	}
	actor, err := parseActorRef(in.Actor[0].Reference)
	if err != nil {
		h.fail(x, err)
		return
	}
	params := scheduling.CreateScheduleParams{Actor: actor, Name: in.Actor[0].Display}
	if len(in.Actor) == 2 {
		id, ok := strings.CutPrefix(in.Actor[1].Reference, "Location/")
		if !ok {
			h.fail(x, &httpError{status: http.StatusBadRequest, code: "invalid", expression: "Schedule.actor[1]",
				message: "a second Schedule.actor must be the Location the actor works at"})
			return
		}
		params.LocationID = id
	}
	if in.Active != nil && !*in.Active {
		h.fail(x, &httpError{status: http.StatusBadRequest, code: "not-supported", expression: "Schedule.active",
			message: "a new schedule is active; deactivate it through the scheduling API"})
		return
	}

	sc, err := h.cfg.Scheduling.CreateSchedule(x.ctx, params)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	types, err := h.appointmentTypes(x.ctx)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	res, err := h.scheduleJSON(x.ctx, sc, types)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	x.w.Header().Set("Location", x.base+"/Schedule/"+sc.ID)
	x.w.Header().Set("Last-Modified", sc.Updated.UTC().Format(http.TimeFormat))
	h.writeBytes(x, http.StatusCreated, res.body)
}
