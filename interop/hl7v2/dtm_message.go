package hl7v2

import (
	"errors"
	"fmt"
	"time"
)

// DateTime parses the timestamp at path with the rules of the mode the
// message was parsed in. For a path to a TS field that has components (as
// in "200401011230^M"), the first component is read. An invalid value
// gives a *ParseError of KindDataType located at path; an absent or empty
// one gives a *ParseError of KindRequiredField.
func (m *Message) DateTime(path string) (DateTime, error) {
	p, err := ParsePath(path)
	if err != nil {
		return DateTime{}, err
	}
	if p.Field > 0 && p.Component == 0 {
		p.Component = 1
		if p.Repetition == 0 {
			p.Repetition = 1
		}
	}
	located := func(kind Kind, message string) *ParseError {
		e := &ParseError{
			Kind: kind, SegmentID: p.SegmentID, Occurrence: p.Occurrence, Field: p.Field,
			Repetition: p.Repetition, Component: p.Component, Subcomponent: p.Subcomponent,
			Offset: -1, Message: message,
		}
		if seg := m.Segment(p.SegmentID, p.Occurrence); seg != nil {
			e.Offset, e.Segment = seg.offset, seg.position
		}
		return e
	}
	v := m.LookupPath(p)
	if v.State != Valued {
		return DateTime{}, located(KindRequiredField, p.String()+" has no timestamp ("+v.State.String()+")")
	}
	dt, err := ParseDateTime(v.Text, m.lenient)
	if err != nil {
		return DateTime{}, located(KindDataType, p.String()+" is not a valid timestamp: "+dateTimeReason(err))
	}
	return dt, nil
}

// DateTimeIn parses the timestamp at path and completes a value that has a
// time of day but no offset: with loc when it is not nil, else with the
// offset of MSH-7, else it returns an error wrapping ErrNoTimeZone. It
// never returns a time of day without an offset.
func (m *Message) DateTimeIn(path string, loc *time.Location) (DateTime, error) {
	dt, err := m.DateTime(path)
	if err != nil || dt.HasOffset || !dt.HasTime() {
		return dt, err
	}
	if loc == nil {
		if header, err := m.DateTime("MSH-7"); err == nil && header.HasOffset {
			loc = time.FixedZone("", header.Offset)
		}
	}
	if loc == nil {
		return dt, fmt.Errorf("hl7v2: %s: %w, and MSH-7 has no offset either", path, ErrNoTimeZone)
	}
	completed, err := dt.Complete(loc)
	if err != nil && !errors.Is(err, ErrNoTimeZone) {
		return dt, err
	}
	return completed, err
}
