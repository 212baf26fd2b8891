package searchparam

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidValue is wrapped by the errors of ParseDate and ParseNumber and
// by Extract for values it cannot read. The messages give the position of
// the problem but not the value, which may be patient data.
var ErrInvalidValue = errors.New("invalid value")

func invalidDate(offset int, reason string) error {
	return fmt.Errorf("%w: date at offset %d: %s", ErrInvalidValue, offset, reason)
}

// ParseDate reads a FHIR date, dateTime or instant of any precision (from
// "2013" to "2013-01-14T10:00:00.123456Z") and returns the range of time it
// covers as the half-open interval [lo, hi) in microseconds since the Unix
// epoch: "1973-06" covers [1973-06-01T00:00Z, 1973-07-01T00:00Z). A value
// with a zone offset is converted to UTC, and one without is read as UTC.
// Time may stop at minutes ("2013-01-14T10:00"), as in search values.
// Fractions finer than a microsecond are cut to the microsecond.
func ParseDate(s string) (lo, hi int64, err error) {
	p := dateParser{s: s}
	year := p.digits(4, "year")
	if p.err == nil && year == 0 {
		return 0, 0, invalidDate(0, "year 0000 is not valid")
	}
	month, day := 1, 1
	hour, minute, second, micro := 0, 0, 0, 0
	next := func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	if p.more() {
		p.expect('-')
		month = p.digits(2, "month")
		if p.err == nil && (month < 1 || month > 12) {
			return 0, 0, invalidDate(5, "month must be 01 to 12")
		}
		next = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	}
	if p.more() {
		p.expect('-')
		day = p.digits(2, "day")
		if p.err == nil && (day < 1 || day > daysIn(year, month)) {
			return 0, 0, invalidDate(8, "day is out of range for the month")
		}
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	}
	hasTime := false
	if p.more() && p.err == nil {
		hasTime = true
		p.expect('T')
		hour = p.digits(2, "hour")
		p.expect(':')
		minute = p.digits(2, "minute")
		if p.err == nil && (hour > 23 || minute > 59) {
			return 0, 0, invalidDate(11, "time of day is out of range")
		}
		next = func(t time.Time) time.Time { return t.Add(time.Minute) }
		if p.peek() == ':' {
			p.expect(':')
			second = p.digits(2, "second")
			if p.err == nil && second > 60 {
				return 0, 0, invalidDate(17, "second is out of range")
			}
			next = func(t time.Time) time.Time { return t.Add(time.Second) }
		}
		if p.peek() == '.' && p.err == nil {
			p.pos++
			micro, next = p.fraction()
		}
	}
	offset := 0
	if p.more() && p.err == nil {
		if !hasTime {
			return 0, 0, invalidDate(p.pos, "a zone needs a time of day")
		}
		offset = p.zone()
	}
	if p.err == nil && p.more() {
		p.fail("unexpected text after the date")
	}
	if p.err != nil {
		return 0, 0, p.err
	}
	start := time.Date(year, time.Month(month), day, hour, minute, second, micro*1000, time.UTC)
	start = start.Add(-time.Duration(offset) * time.Second)
	return start.UnixMicro(), next(start).UnixMicro(), nil
}

type dateParser struct {
	s   string
	pos int
	err error
}

func (p *dateParser) more() bool { return p.pos < len(p.s) }

func (p *dateParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *dateParser) fail(reason string) {
	if p.err == nil {
		p.err = invalidDate(p.pos, reason)
	}
}

func (p *dateParser) expect(c byte) {
	if p.err != nil {
		return
	}
	if p.peek() != c {
		p.fail(fmt.Sprintf("expected %q", c))
		return
	}
	p.pos++
}

// digits reads exactly n decimal digits.
func (p *dateParser) digits(n int, field string) int {
	if p.err != nil {
		return 0
	}
	v := 0
	for i := 0; i < n; i++ {
		c := p.peek()
		if c < '0' || c > '9' {
			p.fail("expected " + field + " digits")
			return 0
		}
		v = v*10 + int(c-'0')
		p.pos++
	}
	return v
}

// fraction reads the digits of a fraction of a second and returns them in
// microseconds with the function that gives the end of the range.
func (p *dateParser) fraction() (int, func(time.Time) time.Time) {
	start := p.pos
	micro, unit := 0, int64(1_000_000)
	for p.more() && p.peek() >= '0' && p.peek() <= '9' {
		if unit > 1 {
			unit /= 10
			micro += int(p.peek()-'0') * int(unit)
		}
		p.pos++
	}
	if p.pos == start {
		p.fail("expected fraction digits")
	}
	width := time.Duration(unit) * time.Microsecond
	return micro, func(t time.Time) time.Time { return t.Add(width) }
}

// zone reads "Z" or an offset "+hh:mm" / "-hh:mm" and returns it in seconds
// east of UTC.
func (p *dateParser) zone() int {
	switch p.peek() {
	case 'Z':
		p.pos++
		return 0
	case '+', '-':
	default:
		p.fail("expected a zone (Z, +hh:mm or -hh:mm)")
		return 0
	}
	sign := 1
	if p.peek() == '-' {
		sign = -1
	}
	p.pos++
	hours := p.digits(2, "zone hour")
	p.expect(':')
	minutes := p.digits(2, "zone minute")
	if p.err == nil && (hours > 14 || minutes > 59) {
		p.fail("zone offset is out of range")
	}
	return sign * (hours*3600 + minutes*60)
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
