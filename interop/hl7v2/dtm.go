package hl7v2

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Precision is how much of a DTM value was sent.
type Precision int

// The precisions of YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]].
const (
	PrecisionYear Precision = iota + 1
	PrecisionMonth
	PrecisionDay
	PrecisionHour
	PrecisionMinute
	PrecisionSecond
	// PrecisionFraction has 1 to 4 fraction digits, in FractionDigits.
	PrecisionFraction
)

// DateTime is an HL7 DTM (or the first component of TS) kept as sent: the
// parts that were given, the precision, and the offset only if one was
// given. A value without offset is a local time whose zone is unknown.
type DateTime struct {
	Year, Month, Day     int
	Hour, Minute, Second int
	// Nanosecond holds the fraction; FractionDigits is how many digits were
	// sent (1 to 4), which FHIR output keeps.
	Nanosecond     int
	FractionDigits int
	Precision      Precision
	// HasOffset reports whether an offset from UTC was given; Offset is
	// that offset in seconds east of UTC.
	HasOffset bool
	Offset    int
	// ShortOffset is set in lenient mode when the offset was sent as ±HH.
	ShortOffset bool
}

// errDateTime is wrapped by the errors of ParseDateTime. The reason text
// names the part that is wrong, never the value.
var errDateTime = errors.New("hl7v2: invalid timestamp")

func dateTimeError(reason string) error {
	return fmt.Errorf("%w: %s", errDateTime, reason)
}

// dateTimeReason returns the reason part of a ParseDateTime error.
func dateTimeReason(err error) string {
	return strings.TrimPrefix(err.Error(), errDateTime.Error()+": ")
}

// ParseDateTime parses YYYY[MM[DD[HH[MM[SS[.S{1,4}]]]]]][+/-ZZZZ]. In
// lenient mode an offset of hours only (+08) is accepted and ShortOffset is
// set; strict mode rejects it.
func ParseDateTime(s string, lenient bool) (DateTime, error) {
	var dt DateTime
	body, zone := s, ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		body, zone = s[:i], s[i:]
	}
	digits, frac := body, ""
	if i := strings.IndexByte(body, '.'); i >= 0 {
		digits, frac = body[:i], body[i+1:]
		if len(digits) != 14 {
			return dt, dateTimeError("fraction of a second needs all of YYYYMMDDHHMMSS before it")
		}
		if len(frac) < 1 || len(frac) > 4 || !allDigits(frac) {
			return dt, dateTimeError("fraction of a second must be 1 to 4 digits")
		}
	}
	if !allDigits(digits) {
		return dt, dateTimeError("date and time must be digits")
	}
	switch len(digits) {
	case 4, 6, 8, 10, 12, 14:
	default:
		return dt, dateTimeError("date and time must have 4, 6, 8, 10, 12 or 14 digits")
	}
	parts := []*int{&dt.Year, &dt.Month, &dt.Day, &dt.Hour, &dt.Minute, &dt.Second}
	widths := []int{4, 2, 2, 2, 2, 2}
	pos := 0
	for i := range parts {
		if pos >= len(digits) {
			break
		}
		*parts[i], _ = strconv.Atoi(digits[pos : pos+widths[i]])
		pos += widths[i]
		dt.Precision = Precision(i + 1)
	}
	if frac != "" {
		dt.Precision = PrecisionFraction
		dt.FractionDigits = len(frac)
		n, _ := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
		dt.Nanosecond = n
	}
	if err := dt.checkRanges(); err != nil {
		return DateTime{}, err
	}
	if zone != "" {
		if err := dt.parseOffset(zone, lenient); err != nil {
			return DateTime{}, err
		}
	}
	return dt, nil
}

func (dt *DateTime) parseOffset(zone string, lenient bool) error {
	sign := 1
	if zone[0] == '-' {
		sign = -1
	}
	z := zone[1:]
	switch {
	case len(z) == 4 && allDigits(z):
	case len(z) == 2 && allDigits(z):
		if !lenient {
			return dateTimeError("offset must be +HHMM or -HHMM")
		}
		dt.ShortOffset = true
		z += "00"
	default:
		return dateTimeError("offset must be +HHMM or -HHMM")
	}
	hours, _ := strconv.Atoi(z[:2])
	minutes, _ := strconv.Atoi(z[2:])
	if hours > 14 || minutes > 59 {
		return dateTimeError("offset out of range")
	}
	dt.HasOffset = true
	dt.Offset = sign * (hours*3600 + minutes*60)
	return nil
}

func (dt *DateTime) checkRanges() error {
	if dt.Year < 1 {
		return dateTimeError("year out of range")
	}
	if dt.Precision >= PrecisionMonth && (dt.Month < 1 || dt.Month > 12) {
		return dateTimeError("month out of range")
	}
	if dt.Precision >= PrecisionDay {
		last := time.Date(dt.Year, time.Month(dt.Month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
		if dt.Day < 1 || dt.Day > last {
			return dateTimeError("day out of range")
		}
	}
	if dt.Hour > 23 || dt.Minute > 59 || dt.Second > 59 {
		return dateTimeError("time of day out of range")
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// HasTime reports whether the value has a time of day.
func (dt DateTime) HasTime() bool { return dt.Precision >= PrecisionHour }

// String formats the value in HL7 form with its precision, and the offset
// as ±HHMM when one was given.
func (dt DateTime) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%04d", dt.Year)
	parts := []int{dt.Month, dt.Day, dt.Hour, dt.Minute, dt.Second}
	for i, p := range parts {
		if dt.Precision < Precision(i+2) {
			break
		}
		fmt.Fprintf(&b, "%02d", p)
	}
	if dt.Precision == PrecisionFraction {
		b.WriteString(".")
		b.WriteString(dt.fraction())
	}
	if dt.HasOffset {
		b.WriteString(formatOffset(dt.Offset, ""))
	}
	return b.String()
}

func (dt DateTime) fraction() string {
	return fmt.Sprintf("%09d", dt.Nanosecond)[:dt.FractionDigits]
}

func formatOffset(seconds int, sep string) string {
	sign := "+"
	if seconds < 0 {
		sign, seconds = "-", -seconds
	}
	return fmt.Sprintf("%s%02d%s%02d", sign, seconds/3600, sep, seconds%3600/60)
}

// FHIR formats the value as a FHIR dateTime. A date keeps its precision
// and no zone, even when an offset was sent. A value with a time of day
// gets seconds (FHIR requires them whenever a time is present, so hour and
// minute precision are filled with zeros), the fraction digits as sent and
// the original offset. It returns ErrNoTimeZone for a time of day without
// offset; complete such a value with Complete first.
func (dt DateTime) FHIR() (string, error) {
	switch dt.Precision {
	case PrecisionYear:
		return fmt.Sprintf("%04d", dt.Year), nil
	case PrecisionMonth:
		return fmt.Sprintf("%04d-%02d", dt.Year, dt.Month), nil
	case PrecisionDay:
		return fmt.Sprintf("%04d-%02d-%02d", dt.Year, dt.Month, dt.Day), nil
	}
	if !dt.HasOffset {
		return "", ErrNoTimeZone
	}
	s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", dt.Year, dt.Month, dt.Day, dt.Hour, dt.Minute, dt.Second)
	if dt.Precision == PrecisionFraction {
		s += "." + dt.fraction()
	}
	return s + formatOffset(dt.Offset, ":"), nil
}

// Complete returns the value with the offset that loc has at that local
// time, when the value has a time of day and no offset. Values with an
// offset or without a time of day are returned unchanged. A nil loc gives
// ErrNoTimeZone.
func (dt DateTime) Complete(loc *time.Location) (DateTime, error) {
	if dt.HasOffset || !dt.HasTime() {
		return dt, nil
	}
	if loc == nil {
		return dt, ErrNoTimeZone
	}
	t := time.Date(dt.Year, time.Month(dt.Month), dt.Day, dt.Hour, dt.Minute, dt.Second, dt.Nanosecond, loc)
	_, offset := t.Zone()
	dt.HasOffset, dt.Offset = true, offset
	return dt, nil
}

// Time returns the instant. A value with a time of day needs an offset
// (else ErrNoTimeZone); a date without offset is taken as midnight UTC.
// Missing parts count as their first value (month 1, day 1, zero time).
func (dt DateTime) Time() (time.Time, error) {
	if dt.HasTime() && !dt.HasOffset {
		return time.Time{}, ErrNoTimeZone
	}
	month, day := max(dt.Month, 1), max(dt.Day, 1)
	loc := time.UTC
	if dt.HasOffset {
		loc = time.FixedZone("", dt.Offset)
	}
	return time.Date(dt.Year, time.Month(month), day, dt.Hour, dt.Minute, dt.Second, dt.Nanosecond, loc), nil
}

// DateTimeFromTime returns t at second precision with its offset, the form
// an ACK's MSH-7 uses.
func DateTimeFromTime(t time.Time) DateTime {
	_, offset := t.Zone()
	return DateTime{
		Year: t.Year(), Month: int(t.Month()), Day: t.Day(),
		Hour: t.Hour(), Minute: t.Minute(), Second: t.Second(),
		Precision: PrecisionSecond, HasOffset: true, Offset: offset,
	}
}

// ParseFHIRDateTime reads a FHIR date or dateTime (YYYY, YYYY-MM,
// YYYY-MM-DD, or YYYY-MM-DDThh:mm:ss[.f]±hh:mm or Z) into the HL7 form.
// Fraction digits past the fourth are dropped, because DTM holds at most
// four.
func ParseFHIRDateTime(s string) (DateTime, error) {
	date, clock, hasTime := strings.Cut(s, "T")
	var hl7 strings.Builder
	switch len(date) {
	case 4, 7, 10:
	default:
		return DateTime{}, dateTimeError("FHIR date must be YYYY, YYYY-MM or YYYY-MM-DD")
	}
	for i, part := range strings.Split(date, "-") {
		if (i == 0 && len(part) != 4) || (i > 0 && len(part) != 2) || i > 2 {
			return DateTime{}, dateTimeError("FHIR date must be YYYY, YYYY-MM or YYYY-MM-DD")
		}
		hl7.WriteString(part)
	}
	if hasTime {
		if len(date) != 10 {
			return DateTime{}, dateTimeError("FHIR dateTime with a time needs a full date")
		}
		var zone string
		switch {
		case strings.HasSuffix(clock, "Z"):
			clock, zone = clock[:len(clock)-1], "+0000"
		case len(clock) > 6 && (clock[len(clock)-6] == '+' || clock[len(clock)-6] == '-') && clock[len(clock)-3] == ':':
			z := clock[len(clock)-6:]
			clock, zone = clock[:len(clock)-6], z[:3]+z[4:]
		default:
			return DateTime{}, dateTimeError("FHIR dateTime with a time needs an offset")
		}
		hms, frac, hasFrac := strings.Cut(clock, ".")
		if len(hms) != 8 || hms[2] != ':' || hms[5] != ':' {
			return DateTime{}, dateTimeError("FHIR time must be hh:mm:ss")
		}
		hl7.WriteString(hms[:2] + hms[3:5] + hms[6:])
		if hasFrac {
			if len(frac) > 4 {
				frac = frac[:4]
			}
			hl7.WriteString("." + frac)
		}
		hl7.WriteString(zone)
	}
	return ParseDateTime(hl7.String(), false)
}
