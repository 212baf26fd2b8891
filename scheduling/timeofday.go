package scheduling

import (
	"fmt"
	"time"
)

// TimeOfDay is a local wall-clock time as minutes after midnight, from 0
// (00:00) to 1440 (24:00, the end of the day).
type TimeOfDay int

// Clock returns the time of day hour:minute.
func Clock(hour, minute int) TimeOfDay { return TimeOfDay(hour*60 + minute) }

// ParseTimeOfDay reads "HH:MM", from "00:00" to "24:00".
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, invalidf("time of day %q must look like 09:30", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil {
		return 0, invalidf("time of day %q must look like 09:30", s)
	}
	t := Clock(h, m)
	if m > 59 || !t.valid() {
		return 0, invalidf("time of day %q is outside 00:00 to 24:00", s)
	}
	return t, nil
}

func (t TimeOfDay) valid() bool { return t >= 0 && t <= 24*60 }

// String returns "HH:MM".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// Date is a calendar date without a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads "YYYY-MM-DD"; the empty string gives the zero Date.
func ParseDate(s string) (Date, error) {
	if s == "" {
		return Date{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, invalidf("date %q must look like 2025-03-31", s)
	}
	return DateOf(t), nil
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsZero reports whether d is the zero Date, which means unbounded.
func (d Date) IsZero() bool { return d == Date{} }

// String returns "YYYY-MM-DD", or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Before reports whether d is earlier than other.
func (d Date) Before(other Date) bool { return d.String() < other.String() }
