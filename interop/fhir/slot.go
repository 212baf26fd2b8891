package fhir

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/scheduling"
)

// defaultSlotWindow is how far ahead a Slot search or $find looks when the
// request gives no upper bound.
const defaultSlotWindow = 31 * 24 * time.Hour

// slotResource is the FHIR R4 Slot as this package writes it.
type slotResource struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	ServiceType  []codeableConcept `json:"serviceType,omitempty"`
	Schedule     reference         `json:"schedule"`
	Status       string            `json:"status"`
	Start        string            `json:"start"`
	End          string            `json:"end"`
}

// slotID returns the id of the slot of schedule scheduleID that starts at
// start for appointment type code: "<schedule id>.<Unix seconds>.<code>",
// or "<schedule id>.<Unix seconds>" for a grid cell without a type.
//
// NOTE: FHIR ids are at most 64 characters. A UUID schedule id leaves 16
// for the code; slots of longer codes get longer ids, which this handler
// reads but other servers may reject.
func slotID(scheduleID string, start time.Time, code string) string {
	id := scheduleID + "." + strconv.FormatInt(start.Unix(), 10)
	if code != "" {
		id += "." + code
	}
	return id
}

// slotKey is a decoded slot id.
type slotKey struct {
	scheduleID string
	start      time.Time
	code       string
}

// parseSlotID returns every way to read id as a slot id. Schedule ids and
// codes may contain '.', so a segment of digits may be the start or part
// of either, and the reader tries each reading in order.
func parseSlotID(id string) []slotKey {
	parts := strings.Split(id, ".")
	var out []slotKey
	for i := 1; i < len(parts); i++ {
		seconds, err := strconv.ParseInt(parts[i], 10, 64)
		if err != nil || parts[i] == "" || parts[i][0] == '+' || parts[i][0] == '-' {
			continue
		}
		out = append(out, slotKey{
			scheduleID: strings.Join(parts[:i], "."),
			start:      time.Unix(seconds, 0),
			code:       strings.Join(parts[i+1:], "."),
		})
	}
	return out
}

// validSlotID reports whether id has only FHIR id characters. Its length
// is not checked, as slotID explains.
func validSlotID(id string) bool {
	if id == "" || len(id) > 256 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// slotJSONs maps a generated slot onto one FHIR Slot per schedule it
// needs. A slot that needs several actors becomes several Slots with the
// same start and end.
func slotJSONs(s scheduling.Slot, displays map[string]string) ([]resourceJSON, error) {
	out := make([]resourceJSON, 0, len(s.ScheduleIDs))
	for _, scheduleID := range s.ScheduleIDs {
		res := slotResource{
			ResourceType: "Slot",
			ID:           slotID(scheduleID, s.Start, s.AppointmentType),
			Schedule:     reference{Reference: "Schedule/" + scheduleID},
			Status:       string(s.Status),
			Start:        dateTime(s.Start),
			End:          dateTime(s.End),
		}
		if s.AppointmentType != "" {
			res.ServiceType = []codeableConcept{typeConcept(s.AppointmentType, displays)}
		}
		r, err := encodeResource("Slot", res.ID, res)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// findSlotByID returns the slot an id names, trying each reading of the
// id. Slots are generated only from now on, so a past slot is not found.
func (h *handler) findSlotByID(ctx context.Context, id string) (*scheduling.Slot, *slotKey, error) {
	for _, key := range parseSlotID(id) {
		slots, err := h.cfg.Scheduling.ListSlots(ctx, scheduling.ListSlotsParams{
			ScheduleID: key.scheduleID, AppointmentType: key.code,
			From: key.start, To: key.start.Add(25 * time.Hour), Limit: 1,
		})
		if errors.Is(err, scheduling.ErrNotFound) || errors.Is(err, scheduling.ErrInvalid) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if len(slots) == 1 && slots[0].Start.Equal(key.start) {
			return &slots[0], &key, nil
		}
	}
	return nil, nil, requestError(http.StatusNotFound, "not-found",
		"no such slot: slot ids name a schedule, a future start and an appointment type")
}

func (h *handler) readSlot(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if !validSlotID(x.path.id) {
		h.fail(x, invalidID())
		return
	}
	slot, key, err := h.findSlotByID(x.ctx, x.path.id)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	types, err := h.appointmentTypes(x.ctx)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	slot.ScheduleIDs = []string{key.scheduleID}
	list, err := slotJSONs(*slot, typeDisplays(types))
	if err != nil {
		h.fail(x, err)
		return
	}
	h.writeBytes(x, http.StatusOK, list[0].body)
}

// slotStatuses are the FHIR R4 Slot.status codes. The scheduling service
// produces free and busy only.
var slotStatuses = map[string]bool{"free": true, "busy": true, "busy-unavailable": true, "busy-tentative": true, "entered-in-error": true}

// searchSlots serves Slot search by schedule, start, status and
// service-type. Without schedule it covers every active schedule, and
// without service-type the slots are the schedules' grid cells. Without an
// upper bound on start it looks defaultSlotWindow ahead of the lower one,
// which is now when not given.
func (h *handler) searchSlots(x *exchange) {
	params, err := h.schedulingParams(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	if err := checkParamNames(params, "schedule", "start", "status", "service-type", "_count", cursorParam); err != nil {
		h.fail(x, err)
		return
	}
	p, err := parsePage(params)
	if err != nil {
		h.fail(x, err)
		return
	}
	q, err := h.parseSlotQuery(x.ctx, params)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	slots, err := h.collectSlots(x.ctx, q, p.limit())
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	out, err := h.slotResources(x.ctx, slots)
	if err != nil {
		h.fail(x, err)
		return
	}
	h.searchBundle(x, "/Slot", params, p, out)
}

// slotQuery is a parsed Slot search.
type slotQuery struct {
	schedules []string
	codes     []string
	// statuses is nil when any status matches.
	statuses map[string]bool
	bounds   startBounds
}

func (h *handler) parseSlotQuery(ctx context.Context, params map[string][]string) (*slotQuery, error) {
	q := &slotQuery{}
	loc := h.cfg.Scheduling.Location()
	for _, v := range params["start"] {
		if err := q.bounds.add("start", v, loc); err != nil {
			return nil, err
		}
	}
	if q.bounds.from.IsZero() {
		q.bounds.from = h.cfg.Clock()
	}
	if q.bounds.to.IsZero() {
		q.bounds.to = q.bounds.from.Add(defaultSlotWindow)
	}
	for i, v := range params["schedule"] {
		var ids []string
		for _, ref := range strings.Split(v, ",") {
			ids = append(ids, strings.TrimPrefix(ref, "Schedule/"))
		}
		if i == 0 {
			q.schedules = ids
			continue
		}
		q.schedules = slices.DeleteFunc(q.schedules, func(id string) bool { return !slices.Contains(ids, id) })
	}
	if params["schedule"] == nil {
		list, err := h.cfg.Scheduling.ListSchedules(ctx, scheduling.ScheduleFilter{ActiveOnly: true})
		if err != nil {
			return nil, err
		}
		for _, sc := range list {
			q.schedules = append(q.schedules, sc.ID)
		}
	}
	for i, v := range params["service-type"] {
		var codes []string
		for _, token := range strings.Split(v, ",") {
			code, err := typeCode(token)
			if err != nil {
				return nil, err
			}
			codes = append(codes, code)
		}
		if i == 0 {
			q.codes = codes
			continue
		}
		q.codes = slices.DeleteFunc(q.codes, func(c string) bool { return !slices.Contains(codes, c) })
	}
	if params["service-type"] == nil {
		q.codes = []string{""}
	}
	for _, v := range params["status"] {
		set := map[string]bool{}
		for _, code := range strings.Split(v, ",") {
			if !slotStatuses[code] {
				return nil, requestError(http.StatusBadRequest, "invalid",
					"status must be a Slot status: free, busy, busy-unavailable, busy-tentative or entered-in-error")
			}
			if q.statuses == nil || q.statuses[code] {
				set[code] = true
			}
		}
		q.statuses = set
	}
	return q, nil
}

// collectSlots returns the first want slots that match q, ordered by start
// and then schedule. Each schedule and type is listed separately, with a
// limit doubled until enough slots match the status filter or the list
// runs out, up to maxPageWindow.
func (h *handler) collectSlots(ctx context.Context, q *slotQuery, want int) ([]scheduling.Slot, error) {
	limit := want
	for {
		slots, complete, err := h.listSlots(ctx, q, limit)
		if err != nil {
			return nil, err
		}
		if len(slots) >= want || complete || limit >= maxPageWindow {
			return slots, nil
		}
		limit = min(2*limit, maxPageWindow)
	}
}

// listSlots lists up to limit slots of each schedule and type and merges
// them. When a list was cut at the limit, the merged result stops at its
// last start, because the other lists cannot be known to be complete
// beyond it. complete reports that no list was cut.
func (h *handler) listSlots(ctx context.Context, q *slotQuery, limit int) ([]scheduling.Slot, bool, error) {
	var all []scheduling.Slot
	complete := true
	var cutoff time.Time
	// The service bounds the end of a slot, the search bounds its start,
	// so the window reaches a day past the upper bound.
	to := q.bounds.to.Add(24 * time.Hour)
	for _, scheduleID := range q.schedules {
		for _, code := range q.codes {
			slots, err := h.cfg.Scheduling.ListSlots(ctx, scheduling.ListSlotsParams{
				ScheduleID: scheduleID, AppointmentType: code, From: q.bounds.from, To: to, Limit: limit,
			})
			if errors.Is(err, scheduling.ErrNotFound) {
				continue // an unknown schedule or type matches nothing
			}
			if err != nil {
				return nil, false, err
			}
			if len(slots) == limit {
				complete = false
				if last := slots[len(slots)-1].Start; cutoff.IsZero() || last.Before(cutoff) {
					cutoff = last
				}
			}
			all = append(all, slots...)
		}
	}
	out := all[:0]
	for _, s := range all {
		if !q.bounds.contains(s.Start) || (q.statuses != nil && !q.statuses[string(s.Status)]) {
			continue
		}
		if !cutoff.IsZero() && s.Start.After(cutoff) {
			continue
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b scheduling.Slot) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ScheduleIDs[0], b.ScheduleIDs[0])
	})
	return out, complete, nil
}

// slotResources renders slots as FHIR Slot resources with the display of
// their appointment types.
func (h *handler) slotResources(ctx context.Context, slots []scheduling.Slot) ([]resourceJSON, error) {
	types, err := h.appointmentTypes(ctx)
	if err != nil {
		return nil, schedulingError(err)
	}
	displays := typeDisplays(types)
	var out []resourceJSON
	for _, s := range slots {
		list, err := slotJSONs(s, displays)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}
