package scheduling

import (
	"slices"
	"sort"
	"time"
)

// block is a period in which one schedule is available, in UTC.
type block struct {
	start, end time.Time
	// capacity is the rule's capacity before overbooking.
	capacity int
}

// expandRules turns a schedule's rules into disjoint, sorted blocks that
// overlap [from, to), for appointments of type code (empty: any type).
// Weekly rules are read in loc, so a 09:00 rule starts at 09:00 local time
// on both sides of a daylight-saving change. A local time that does not
// exist on the day of a spring-forward change is moved forward by the
// length of the gap, as time.Date does.
func expandRules(rules []Availability, loc *time.Location, from, to time.Time, code string) []block {
	var blocks, exceptions []block
	var weekly [7][]Availability
	for _, r := range rules {
		switch r.Kind {
		case Weekly:
			if allowsType(r, code) {
				weekly[r.Weekday] = append(weekly[r.Weekday], r)
			}
		case Addition:
			if allowsType(r, code) && r.Start.Before(to) && r.End.After(from) {
				blocks = append(blocks, block{start: r.Start, end: r.End, capacity: capacityOf(r)})
			}
		case Exception:
			if r.Start.Before(to) && r.End.After(from) {
				exceptions = append(exceptions, block{start: r.Start, end: r.End})
			}
		}
	}

	// Start a day early: a rule of the previous local day can reach past
	// midnight in UTC only through 24:00, but the local date of from may
	// differ from its UTC date.
	first := from.In(loc)
	day := time.Date(first.Year(), first.Month(), first.Day()-1, 0, 0, 0, 0, loc)
	for !day.After(to) {
		date := DateOf(day)
		for _, r := range weekly[day.Weekday()] {
			if !r.ValidFrom.IsZero() && date.Before(r.ValidFrom) {
				continue
			}
			if !r.ValidUntil.IsZero() && r.ValidUntil.Before(date) {
				continue
			}
			start := wallClock(date, r.StartTime, loc)
			end := wallClock(date, r.EndTime, loc)
			if start.Before(to) && end.After(from) && start.Before(end) {
				blocks = append(blocks, block{start: start, end: end, capacity: capacityOf(r)})
			}
		}
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
	}
	return subtract(normalize(blocks), exceptions)
}

// wallClock returns the instant of local time t on date d in loc, in UTC.
// TimeOfDay 24:00 is the next day's midnight.
func wallClock(d Date, t TimeOfDay, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, int(t)/60, int(t)%60, 0, 0, loc).UTC()
}

func allowsType(r Availability, code string) bool {
	return code == "" || len(r.AppointmentTypes) == 0 || slices.Contains(r.AppointmentTypes, code)
}

func capacityOf(r Availability) int {
	if r.Capacity <= 0 {
		return 1
	}
	return r.Capacity
}

// normalize splits overlapping blocks into disjoint pieces, each with the
// largest capacity of the blocks covering it, and joins touching pieces
// of equal capacity.
func normalize(blocks []block) []block {
	if len(blocks) < 2 {
		return blocks
	}
	sort.Slice(blocks, func(i, j int) bool { return blocks[i].start.Before(blocks[j].start) })
	disjoint := true
	for i := 1; i < len(blocks) && disjoint; i++ {
		disjoint = !blocks[i].start.Before(blocks[i-1].end)
	}
	if disjoint {
		return blocks
	}
	points := make([]time.Time, 0, 2*len(blocks))
	for _, b := range blocks {
		points = append(points, b.start, b.end)
	}
	sort.Slice(points, func(i, j int) bool { return points[i].Before(points[j]) })
	points = slices.CompactFunc(points, time.Time.Equal)

	var out []block
	for i := 0; i+1 < len(points); i++ {
		lo, hi := points[i], points[i+1]
		capacity := 0
		for _, b := range blocks {
			if !b.start.After(lo) && !b.end.Before(hi) {
				capacity = max(capacity, b.capacity)
			}
			if b.start.After(lo) {
				break
			}
		}
		if capacity == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].end.Equal(lo) && out[n-1].capacity == capacity {
			out[n-1].end = hi
			continue
		}
		out = append(out, block{start: lo, end: hi, capacity: capacity})
	}
	return out
}

// subtract removes the exception periods from sorted, disjoint blocks.
func subtract(blocks, exceptions []block) []block {
	if len(exceptions) == 0 {
		return blocks
	}
	out := make([]block, 0, len(blocks))
	for _, b := range blocks {
		pieces := []block{b}
		for _, x := range exceptions {
			var next []block
			for _, p := range pieces {
				if !x.start.Before(p.end) || !x.end.After(p.start) {
					next = append(next, p)
					continue
				}
				if p.start.Before(x.start) {
					next = append(next, block{start: p.start, end: x.start, capacity: p.capacity})
				}
				if x.end.Before(p.end) {
					next = append(next, block{start: x.end, end: p.end, capacity: p.capacity})
				}
			}
			pieces = next
		}
		out = append(out, pieces...)
	}
	return out
}

// span is a period in which every schedule of a combination is available,
// with each schedule's seat count there.
type span struct {
	start, end time.Time
	seats      []int
}

// intersect returns the periods in which all schedules are available.
// blocks[i] are the disjoint, sorted blocks of schedule i and policies[i]
// its overbooking policy.
func intersect(blocks [][]block, policies []OverbookingPolicy) []span {
	if len(blocks) == 0 {
		return nil
	}
	spans := make([]span, 0, len(blocks[0]))
	for _, b := range blocks[0] {
		spans = append(spans, span{start: b.start, end: b.end, seats: []int{policies[0].Seats(b.capacity)}})
	}
	for i := 1; i < len(blocks); i++ {
		var next []span
		j := 0
		for _, s := range spans {
			for j < len(blocks[i]) && !blocks[i][j].end.After(s.start) {
				j++
			}
			for k := j; k < len(blocks[i]) && blocks[i][k].start.Before(s.end); k++ {
				b := blocks[i][k]
				lo, hi := later(s.start, b.start), earlier(s.end, b.end)
				if !lo.Before(hi) {
					continue
				}
				seats := append(slices.Clone(s.seats), policies[i].Seats(b.capacity))
				next = append(next, span{start: lo, end: hi, seats: seats})
			}
		}
		spans = next
	}
	return spans
}

// coverage returns the seat count of each schedule over [start, end), the
// least over the spans it crosses, or false when the spans do not cover
// the whole period without a gap.
func coverage(spans []span, start, end time.Time) ([]int, bool) {
	var seats []int
	at := start
	for _, s := range spans {
		if !s.end.After(at) {
			continue
		}
		if s.start.After(at) {
			return nil, false
		}
		if seats == nil {
			seats = slices.Clone(s.seats)
		} else {
			for i, n := range s.seats {
				seats[i] = min(seats[i], n)
			}
		}
		at = s.end
		if !at.Before(end) {
			return seats, true
		}
	}
	return nil, false
}

// cellStarts returns the starts of the grid cells of length g that
// [start, end) touches. Cells are aligned to multiples of g since the zero
// time, so with g dividing an hour they line up with UTC hours.
func cellStarts(start, end time.Time, g time.Duration) []time.Time {
	var out []time.Time
	for c := start.Truncate(g); c.Before(end); c = c.Add(g) {
		out = append(out, c)
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
