package fhir

import (
	"net/http"
	"strings"
	"time"
)

// startBounds are the bounds that date search values put on a start time:
// from <= start < to, where a zero bound is open.
type startBounds struct {
	from, to time.Time
}

// add narrows the bounds by one date search value of parameter name, such
// as "ge2025-03-03" or "lt2025-03-03T12:00:00+01:00". The prefixes eq (the
// default), ge, gt, le, lt, sa and eb are supported. A value without a
// zone offset is read in loc.
func (b *startBounds) add(name, value string, loc *time.Location) error {
	prefix := "eq"
	if len(value) > 2 && value[0] >= 'a' && value[0] <= 'z' {
		prefix, value = value[:2], value[2:]
	}
	lo, hi, err := parseDateRange(value, loc)
	if err != nil {
		return requestError(http.StatusBadRequest, "invalid",
			name+" must be a FHIR date or dateTime such as 2025-03-03 or 2025-03-03T09:00:00+01:00, with an optional prefix ge, gt, le or lt")
	}
	switch prefix {
	case "eq":
		b.raise(lo)
		b.lower(hi)
	case "ge":
		b.raise(lo)
	case "gt", "sa":
		b.raise(hi)
	case "le":
		b.lower(hi)
	case "lt", "eb":
		b.lower(lo)
	default:
		return requestError(http.StatusBadRequest, "not-supported",
			name+" supports the prefixes eq, ge, gt, le, lt, sa and eb")
	}
	return nil
}

func (b *startBounds) raise(t time.Time) {
	if b.from.IsZero() || t.After(b.from) {
		b.from = t
	}
}

func (b *startBounds) lower(t time.Time) {
	if b.to.IsZero() || t.Before(b.to) {
		b.to = t
	}
}

// contains reports whether start is within the bounds.
func (b startBounds) contains(start time.Time) bool {
	return (b.from.IsZero() || !start.Before(b.from)) && (b.to.IsZero() || start.Before(b.to))
}

// dateLayouts are the FHIR date and dateTime forms without a zone, each
// with the step to the end of the period it names.
var dateLayouts = []struct {
	layout string
	next   func(time.Time) time.Time
}{
	{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
	{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
	{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	{"2006-01-02T15:04", func(t time.Time) time.Time { return t.Add(time.Minute) }},
	{"2006-01-02T15:04:05", func(t time.Time) time.Time { return t.Add(time.Second) }},
}

// parseDateRange returns the half-open period [lo, hi) a FHIR date or
// dateTime covers: "2025-03" covers March. A value without a zone offset
// is read in loc, so a date means the facility's day.
func parseDateRange(value string, loc *time.Location) (time.Time, time.Time, error) {
	if _, clock, ok := strings.Cut(value, "T"); ok && hasZone(clock) {
		for _, layout := range []string{"2006-01-02T15:04Z07:00", time.RFC3339Nano} {
			t, err := time.Parse(layout, value)
			if err != nil {
				continue
			}
			step := time.Second
			switch {
			case layout != time.RFC3339Nano:
				step = time.Minute
			case strings.Contains(clock, "."):
				step = time.Microsecond
			}
			return t, t.Add(step), nil
		}
		return time.Time{}, time.Time{}, errInvalidDate
	}
	for _, l := range dateLayouts {
		if len(value) != len(l.layout) {
			continue
		}
		t, err := time.ParseInLocation(l.layout, value, loc)
		if err != nil {
			break
		}
		return t, l.next(t), nil
	}
	return time.Time{}, time.Time{}, errInvalidDate
}

var errInvalidDate = requestError(http.StatusBadRequest, "invalid", "invalid date")

// hasZone reports whether the time part of a dateTime ends with Z or an
// offset such as +01:00.
func hasZone(clock string) bool {
	return strings.HasSuffix(clock, "Z") || strings.ContainsAny(clock, "+-")
}

// parseInstant reads a dateTime with a zone offset, or a date or dateTime
// without one in loc, as the start of the period it names.
func parseInstant(value string, loc *time.Location) (time.Time, error) {
	lo, _, err := parseDateRange(value, loc)
	return lo, err
}
