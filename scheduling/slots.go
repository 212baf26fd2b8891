package scheduling

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// FindSlotsParams selects free slots. Every slot needs all Require actors
// and, when candidates exist, one of them. Candidates are AnyOf when it is
// set. When AnyOf and Require are both empty, the candidates are every
// active schedule of Kind, or of any kind when Kind is empty. LocationID
// keeps only candidates tied to that location.
type FindSlotsParams struct {
	AppointmentType string
	Require         []Actor
	AnyOf           []Actor
	Kind            ActorKind
	LocationID      string
	// From and To bound the slots: From <= start and end <= To. Times
	// before now are skipped.
	From, To time.Time
	// Limit caps the result; 0 means Config.DefaultSlots and values above
	// Config.MaxSlots are lowered to it.
	Limit int
}

// ListSlotsParams selects the slots of one schedule, free and busy, as a
// FHIR Slot search does. Without an appointment type the slots are grid
// cells of the schedule.
type ListSlotsParams struct {
	ScheduleID      string
	AppointmentType string
	From, To        time.Time
	Limit           int
}

// FindSlots returns the earliest free slots, ordered by start and then by
// actors, with times in the facility's zone.
func (s *Service) FindSlots(ctx context.Context, p FindSlotsParams) ([]Slot, error) {
	typ, err := s.store.GetAppointmentType(ctx, p.AppointmentType)
	if err != nil {
		return nil, fmt.Errorf("find slots: appointment type %s: %w", p.AppointmentType, err)
	}
	from, to, err := s.window(p.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("find slots: %w", err)
	}
	combos, err := s.combinations(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("find slots: %w", err)
	}
	search := slotSearch{service: s, shape: shapeOf(typ), combos: combos, limit: s.slotLimit(p.Limit)}
	return search.run(ctx, from, to)
}

// ListSlots returns the slots of one schedule, free and busy, ordered by
// start.
func (s *Service) ListSlots(ctx context.Context, p ListSlotsParams) ([]Slot, error) {
	sc, err := s.store.GetSchedule(ctx, p.ScheduleID)
	if err != nil {
		return nil, fmt.Errorf("list slots: %w", err)
	}
	shape := slotShape{duration: sc.Granularity}
	if p.AppointmentType != "" {
		typ, err := s.store.GetAppointmentType(ctx, p.AppointmentType)
		if err != nil {
			return nil, fmt.Errorf("list slots: appointment type %s: %w", p.AppointmentType, err)
		}
		shape = shapeOf(typ)
	}
	from, to, err := s.window(p.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("list slots: %w", err)
	}
	search := slotSearch{service: s, shape: shape, combos: [][]Schedule{{*sc}}, limit: s.slotLimit(p.Limit), withBusy: true}
	return search.run(ctx, from, to)
}

func (s *Service) slotLimit(n int) int {
	switch {
	case n <= 0:
		return s.cfg.DefaultSlots
	case n > s.cfg.MaxSlots:
		return s.cfg.MaxSlots
	}
	return n
}

// window checks a search window and moves its start up to now.
func (s *Service) window(from, to time.Time) (time.Time, time.Time, error) {
	if from.IsZero() || to.IsZero() || !from.Before(to) {
		return time.Time{}, time.Time{}, invalidf("From and To must be set, with From before To")
	}
	if to.Sub(from) > s.cfg.MaxWindow {
		return time.Time{}, time.Time{}, invalidf("window of %v is longer than the maximum of %v", to.Sub(from), s.cfg.MaxWindow)
	}
	from = later(from.UTC(), s.now())
	return from, to.UTC(), nil
}

// combinations returns the sets of schedules a slot may use.
func (s *Service) combinations(ctx context.Context, p FindSlotsParams) ([][]Schedule, error) {
	required, err := s.schedulesOf(ctx, p.Require)
	if err != nil {
		return nil, err
	}
	var candidates []Schedule
	switch {
	case len(p.AnyOf) > 0:
		candidates, err = s.schedulesOf(ctx, p.AnyOf)
		if err != nil {
			return nil, err
		}
		if p.LocationID != "" {
			candidates = slices.DeleteFunc(candidates, func(sc Schedule) bool { return sc.LocationID != p.LocationID })
		}
	case len(p.Require) == 0:
		candidates, err = s.store.ListSchedules(ctx, ScheduleFilter{Kind: p.Kind, LocationID: p.LocationID, ActiveOnly: true})
		if err != nil {
			return nil, err
		}
	}
	if len(candidates) == 0 {
		if len(required) == 0 {
			return nil, nil
		}
		return [][]Schedule{required}, nil
	}
	combos := make([][]Schedule, 0, len(candidates))
	for _, c := range candidates {
		if slices.ContainsFunc(required, func(r Schedule) bool { return r.ID == c.ID }) {
			continue
		}
		combo := append(slices.Clone(required), c)
		slices.SortFunc(combo, func(a, b Schedule) int { return compareActors(a.Actor, b.Actor) })
		combos = append(combos, combo)
	}
	return combos, nil
}

// schedulesOf returns the active schedule of each actor, in actor order.
func (s *Service) schedulesOf(ctx context.Context, actors []Actor) ([]Schedule, error) {
	if len(actors) == 0 {
		return nil, nil
	}
	sorted, err := participants(actors)
	if err != nil {
		return nil, err
	}
	found, err := s.store.ListSchedules(ctx, ScheduleFilter{Actors: sorted})
	if err != nil {
		return nil, err
	}
	out := make([]Schedule, 0, len(sorted))
	for _, a := range sorted {
		i := slices.IndexFunc(found, func(sc Schedule) bool { return sc.Actor == a })
		if i < 0 {
			return nil, fmt.Errorf("no schedule for %s: %w", a, ErrNotFound)
		}
		if !found[i].Active {
			return nil, fmt.Errorf("schedule %s of %s is inactive: %w", found[i].ID, a, ErrUnavailable)
		}
		out = append(out, found[i])
	}
	return out, nil
}

// slotShape is the time an appointment occupies: the duration itself and
// the buffers around it.
type slotShape struct {
	code          string
	duration      time.Duration
	before, after time.Duration
}

func shapeOf(t *AppointmentType) slotShape {
	return slotShape{code: t.Code, duration: t.Duration, before: t.BufferBefore, after: t.BufferAfter}
}

// step returns the distance between consecutive slot starts: the whole
// occupied time rounded up to the grid, so slots of one type do not
// overlap.
func (sh slotShape) step(g time.Duration) time.Duration {
	total := sh.before + sh.duration + sh.after
	return (total + g - 1) / g * g
}

// slotSearch generates slots for sets of schedules over a window.
type slotSearch struct {
	service  *Service
	shape    slotShape
	combos   [][]Schedule
	limit    int
	withBusy bool

	ids   []string
	index map[string]int32
	zones map[string]*time.Location
	rules map[string][]Availability
	steps []time.Duration
}

type cellKey struct {
	schedule int32
	start    int64
}

func (q *slotSearch) run(ctx context.Context, from, to time.Time) ([]Slot, error) {
	if len(q.combos) == 0 {
		return []Slot{}, nil
	}
	if err := q.prepare(ctx, from, to); err != nil {
		return nil, err
	}
	out := []Slot{}
	// The window is read in chunks that double in length, so a search
	// whose first free slots are near its start reads few cells.
	size := 24 * time.Hour
	for start := from; start.Before(to) && len(out) < q.limit; {
		end := earlier(start.Add(size), to)
		found, err := q.chunk(ctx, start, end, to)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
		start, size = end, 2*size
	}
	if len(out) > q.limit {
		out = out[:q.limit]
	}
	return out, nil
}

// prepare loads the rules of every schedule.
func (q *slotSearch) prepare(ctx context.Context, from, to time.Time) error {
	q.index = map[string]int32{}
	q.zones = map[string]*time.Location{}
	for _, combo := range q.combos {
		for _, sc := range combo {
			if _, ok := q.index[sc.ID]; ok {
				continue
			}
			loc, err := q.service.zone(sc.TimeZone)
			if err != nil {
				return err
			}
			q.index[sc.ID] = int32(len(q.ids))
			q.ids = append(q.ids, sc.ID)
			q.zones[sc.ID] = loc
		}
	}
	rules, err := q.service.store.ListAvailability(ctx, AvailabilityFilter{ScheduleIDs: q.ids, From: from, To: to})
	if err != nil {
		return err
	}
	q.rules = map[string][]Availability{}
	for _, r := range rules {
		q.rules[r.ScheduleID] = append(q.rules[r.ScheduleID], r)
	}
	q.steps = make([]time.Duration, len(q.combos))
	for i, combo := range q.combos {
		grid := time.Duration(0)
		for _, sc := range combo {
			grid = max(grid, sc.Granularity)
		}
		q.steps[i] = q.shape.step(grid)
	}
	return nil
}

// spansIn intersects the availability of each combination over
// [from, to). Blocks are expanded whole, so a span that crosses the
// window's edges keeps its true start and the slot steps stay aligned to
// it.
func (q *slotSearch) spansIn(from, to time.Time) [][]span {
	blocks := make(map[string][]block, len(q.ids))
	for _, id := range q.ids {
		blocks[id] = expandRules(q.rules[id], q.zones[id], from, to, q.shape.code)
	}
	out := make([][]span, len(q.combos))
	for i, combo := range q.combos {
		lists := make([][]block, len(combo))
		policies := make([]OverbookingPolicy, len(combo))
		for j, sc := range combo {
			lists[j] = blocks[sc.ID]
			policies[j] = sc.Overbooking
		}
		out[i] = intersect(lists, policies)
	}
	return out
}

// chunk returns the slots that start in [start, end) and end by limit,
// sorted.
func (q *slotSearch) chunk(ctx context.Context, start, end, limit time.Time) ([]Slot, error) {
	sh := q.shape
	cells, err := q.service.store.ListCells(ctx, CellFilter{
		ScheduleIDs: q.ids,
		From:        start.Add(-sh.before - time.Hour),
		To:          end.Add(sh.duration + sh.after + time.Hour),
	})
	if err != nil {
		return nil, err
	}
	booked := make(map[cellKey]int, len(cells))
	for _, c := range cells {
		booked[cellKey{q.index[c.ScheduleID], c.Start.UnixMicro()}] = c.Booked
	}

	spans := q.spansIn(start, end.Add(sh.duration))
	loc := q.service.loc
	var found []Slot
	for i, combo := range q.combos {
		actors := make([]Actor, len(combo))
		ids := make([]string, len(combo))
		for j, sc := range combo {
			actors[j], ids[j] = sc.Actor, sc.ID
		}
		step := q.steps[i]
		for _, sp := range spans[i] {
			if !sp.end.After(start) || !sp.start.Before(end) {
				continue
			}
			at := sp.start
			if at.Before(start) {
				at = at.Add((start.Sub(at) + step - 1) / step * step)
			}
			for ; at.Before(end); at = at.Add(step) {
				stop := at.Add(sh.duration)
				if stop.After(sp.end) || stop.After(limit) {
					break
				}
				seats := q.freeSeats(combo, sp.seats, booked, at, stop)
				if seats <= 0 && !q.withBusy {
					continue
				}
				slot := Slot{Start: at.In(loc), End: stop.In(loc), AppointmentType: sh.code, Actors: actors, ScheduleIDs: ids, Seats: max(seats, 0), Status: SlotFree}
				if seats <= 0 {
					slot.Status = SlotBusy
				}
				found = append(found, slot)
			}
		}
	}
	slices.SortFunc(found, compareSlots)
	return found, nil
}

// freeSeats returns the least number of free seats over the combination's
// schedules in the occupied time of an appointment at [start, stop).
func (q *slotSearch) freeSeats(combo []Schedule, seats []int, booked map[cellKey]int, start, stop time.Time) int {
	free := int(^uint(0) >> 1)
	from, to := start.Add(-q.shape.before), stop.Add(q.shape.after)
	for j, sc := range combo {
		idx := q.index[sc.ID]
		g := sc.Granularity
		for c := from.Truncate(g); c.Before(to); c = c.Add(g) {
			free = min(free, seats[j]-booked[cellKey{idx, c.UnixMicro()}])
			if free <= 0 {
				return free
			}
		}
	}
	return free
}

func compareSlots(a, b Slot) int {
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	for i := 0; i < len(a.Actors) && i < len(b.Actors); i++ {
		if c := compareActors(a.Actors[i], b.Actors[i]); c != 0 {
			return c
		}
	}
	return len(a.Actors) - len(b.Actors)
}

// planBooking checks that every actor is available for an appointment of
// the type at start and returns the cells it needs.
func (s *Service) planBooking(ctx context.Context, code string, actors []Actor, start time.Time) (*bookingPlan, error) {
	typ, err := s.store.GetAppointmentType(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("appointment type %s: %w", code, err)
	}
	sorted, err := participants(actors)
	if err != nil {
		return nil, err
	}
	schedules, err := s.schedulesOf(ctx, sorted)
	if err != nil {
		return nil, err
	}

	start = start.UTC().Truncate(time.Microsecond)
	end := start.Add(typ.Duration)
	ids := make([]string, len(schedules))
	for i, sc := range schedules {
		ids[i] = sc.ID
	}
	rules, err := s.store.ListAvailability(ctx, AvailabilityFilter{ScheduleIDs: ids, From: start, To: end})
	if err != nil {
		return nil, err
	}

	plan := &bookingPlan{typ: typ, actors: sorted, start: start, end: end}
	for _, sc := range schedules {
		loc, err := s.zone(sc.TimeZone)
		if err != nil {
			return nil, err
		}
		own := rules[:0:0]
		for _, r := range rules {
			if r.ScheduleID == sc.ID {
				own = append(own, r)
			}
		}
		spans := intersect([][]block{expandRules(own, loc, start, end, code)}, []OverbookingPolicy{sc.Overbooking})
		seats, ok := coverage(spans, start, end)
		if !ok {
			return nil, fmt.Errorf("%s at %s: %w", sc.Actor, start.Format(time.RFC3339), ErrUnavailable)
		}
		for _, c := range cellStarts(start.Add(-typ.BufferBefore), end.Add(typ.BufferAfter), sc.Granularity) {
			plan.cells = append(plan.cells, Cell{ScheduleID: sc.ID, Start: c, Seats: seats[0]})
		}
	}
	return plan, nil
}

// bookingPlan is a checked request: the sorted actors, the period and the
// cells to claim.
type bookingPlan struct {
	typ        *AppointmentType
	actors     []Actor
	start, end time.Time
	cells      []Cell
}

func (p *bookingPlan) actorList() string {
	return strings.Join(actorRefs(p.actors), ", ")
}
