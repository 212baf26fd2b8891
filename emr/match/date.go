package match

import (
	"strconv"
	"time"
)

// Precisions of a FHIR date.
const (
	precisionNone = iota
	precisionYear
	precisionMonth
	precisionDay
)

// date is a parsed FHIR date. Fields below the precision are zero.
type date struct {
	year, month, day int
	precision        int
}

// parseDate parses YYYY, YYYY-MM or YYYY-MM-DD, ignoring anything after the
// day such as the time of a dateTime. An invalid date has precisionNone.
func parseDate(s string) date {
	if len(s) > 10 {
		s = s[:10]
	}
	var d date
	if len(s) != 4 && len(s) != 7 && len(s) != 10 {
		return d
	}
	year, ok := parseDigits(s[:4])
	if !ok || year == 0 {
		return d
	}
	d = date{year: year, precision: precisionYear}
	if len(s) == 4 {
		return d
	}
	month, ok := parseDigits(s[5:7])
	if !ok || s[4] != '-' || month < 1 || month > 12 {
		return date{}
	}
	d.month, d.precision = month, precisionMonth
	if len(s) == 7 {
		return d
	}
	day, ok := parseDigits(s[8:10])
	if !ok || s[7] != '-' || day < 1 || day > daysIn(year, month) {
		return date{}
	}
	d.day, d.precision = day, precisionDay
	return d
}

func parseDigits(s string) (int, bool) {
	if !isDigits(s) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// digits returns the date as the eight digits YYYYMMDD.
func (d date) digits() [8]byte {
	var out [8]byte
	put := func(at, value, width int) {
		for i := width - 1; i >= 0; i-- {
			out[at+i] = byte('0' + value%10)
			value /= 10
		}
	}
	put(0, d.year, 4)
	put(4, d.month, 2)
	put(6, d.day, 2)
	return out
}

// transposed returns d with day and month swapped, and false when the
// result is not a valid date or equals d.
func (d date) transposed() (date, bool) {
	if d.precision != precisionDay || d.day == d.month || d.day > 12 {
		return date{}, false
	}
	return date{year: d.year, month: d.day, day: d.month, precision: precisionDay}, true
}

func (d date) String() string {
	digits := d.digits()
	switch d.precision {
	case precisionYear:
		return string(digits[:4])
	case precisionMonth:
		return string(digits[:4]) + "-" + string(digits[4:6])
	case precisionDay:
		return string(digits[:4]) + "-" + string(digits[4:6]) + "-" + string(digits[6:])
	}
	return ""
}

// compareBirthDates compares two dates at their common precision. Full dates
// can be Exact, Transposed (day and month swapped), Typo (one digit differs,
// or the year is one off with the same day and month) or Mismatch. Dates
// compared at year or month precision are Partial when equal there and
// Mismatch otherwise. It returns false when either date is missing.
func compareBirthDates(a, b date) (Kind, bool) {
	precision := min(a.precision, b.precision)
	switch precision {
	case precisionNone:
		return "", false
	case precisionYear:
		return partialOrMismatch(a.year == b.year), true
	case precisionMonth:
		return partialOrMismatch(a.year == b.year && a.month == b.month), true
	}
	if a == b {
		return Exact, true
	}
	if t, ok := a.transposed(); ok && t == b {
		return Transposed, true
	}
	if a.month == b.month && a.day == b.day && (a.year-b.year == 1 || b.year-a.year == 1) {
		return Typo, true
	}
	da, db := a.digits(), b.digits()
	differing := 0
	for i := range da {
		if da[i] != db[i] {
			differing++
		}
	}
	if differing == 1 {
		return Typo, true
	}
	return Mismatch, true
}

func partialOrMismatch(equal bool) Kind {
	if equal {
		return Partial
	}
	return Mismatch
}
