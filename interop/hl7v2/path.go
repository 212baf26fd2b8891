package hl7v2

import (
	"fmt"
	"strconv"
	"strings"
)

// Path names a segment or a part of one:
//
//	PID           the first PID segment
//	OBX(2)-5      field 5 of the second OBX
//	PID-3         field 3, all repetitions
//	PID-3[2]      the second repetition of field 3
//	PID-3.4       component 4 of the first repetition
//	PID-3[2].4.1  subcomponent 1 of component 4 of the second repetition
//
// Segment occurrences, fields, repetitions, components and subcomponents
// are all counted from 1. A path with a component but no repetition index
// means the first repetition.
type Path struct {
	SegmentID    string
	Occurrence   int // 1 when not given
	Field        int // 0 names the whole segment
	Repetition   int // 0 when not given
	Component    int
	Subcomponent int
}

// ParsePath parses the path grammar described at Path.
func ParsePath(s string) (Path, error) {
	p := Path{Occurrence: 1}
	fail := func(reason string) (Path, error) {
		return Path{}, fmt.Errorf("%w %q: %s", ErrInvalidPath, s, reason)
	}
	if len(s) < 3 || !validSegmentID(s[:3]) {
		return fail("must start with a three-character segment id")
	}
	p.SegmentID, s = s[:3], s[3:]

	number := func(rest string, open, close string) (int, string, bool) {
		if !strings.HasPrefix(rest, open) {
			return 0, rest, true
		}
		rest = rest[len(open):]
		end := len(rest)
		if close != "" {
			end = strings.Index(rest, close)
			if end < 0 {
				return 0, rest, false
			}
		} else {
			end = 0
			for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
				end++
			}
		}
		n, err := strconv.Atoi(rest[:end])
		if err != nil || n < 1 {
			return 0, rest, false
		}
		return n, rest[end+len(close):], true
	}

	var ok bool
	var occurrence int
	if occurrence, s, ok = number(s, "(", ")"); !ok {
		return fail("segment occurrence must be a positive number in parentheses")
	} else if occurrence > 0 {
		p.Occurrence = occurrence
	}
	if s == "" {
		return p, nil
	}

	if p.Field, s, ok = number(s, "-", ""); !ok || p.Field == 0 {
		return fail("field must be a positive number after '-'")
	}
	if p.Repetition, s, ok = number(s, "[", "]"); !ok {
		return fail("repetition must be a positive number in brackets")
	}
	if p.Component, s, ok = number(s, ".", ""); !ok {
		return fail("component must be a positive number after '.'")
	}
	if p.Component > 0 {
		if p.Subcomponent, s, ok = number(s, ".", ""); !ok {
			return fail("subcomponent must be a positive number after '.'")
		}
	}
	if s != "" {
		return fail("unexpected characters at the end")
	}
	return p, nil
}

// String formats the path in the grammar ParsePath reads.
func (p Path) String() string {
	var b strings.Builder
	b.WriteString(p.SegmentID)
	if p.Occurrence > 1 {
		fmt.Fprintf(&b, "(%d)", p.Occurrence)
	}
	if p.Field > 0 {
		fmt.Fprintf(&b, "-%d", p.Field)
	}
	if p.Repetition > 0 {
		fmt.Fprintf(&b, "[%d]", p.Repetition)
	}
	if p.Component > 0 {
		fmt.Fprintf(&b, ".%d", p.Component)
	}
	if p.Subcomponent > 0 {
		fmt.Fprintf(&b, ".%d", p.Subcomponent)
	}
	return b.String()
}

// State records whether a value is absent, empty, the explicit null or set.
type State int

// The states of a Value.
const (
	// Absent: the segment, field or part is not in the message.
	Absent State = iota
	// Empty: present but with no value, as in "||".
	Empty
	// Null: the explicit null "", meaning "delete the stored value".
	Null
	// Valued: present with a value.
	Valued
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case Empty:
		return "empty"
	case Null:
		return "null"
	case Valued:
		return "valued"
	}
	return "absent"
}

// Value is the part of a message that a path names, with its decoded
// text, its encoded text and its state. Text is the decoded value when the element holds one value, and
// the encoded form when it has separators inside (as in "ADT^A01").
type Value struct {
	Text  string
	Raw   string
	State State
}

// Lookup returns the value at path. A well-formed path to a part that is
// not in the message gives State Absent and no error.
func (m *Message) Lookup(path string) (Value, error) {
	p, err := ParsePath(path)
	if err != nil {
		return Value{}, err
	}
	return m.LookupPath(p), nil
}

// LookupPath returns the value at p.
func (m *Message) LookupPath(p Path) Value {
	seg := m.Segment(p.SegmentID, p.Occurrence)
	if seg == nil {
		return Value{}
	}
	if p.Field == 0 {
		return Value{Text: seg.text, Raw: seg.text, State: Valued}
	}
	e, l := resolve(seg, p)
	if e == nil {
		return Value{}
	}
	v := Value{Text: e.decoded(l), Raw: e.raw, State: Valued}
	switch e.raw {
	case "":
		v.State = Empty
	case nullValue:
		v.State = Null
	}
	return v
}

// resolve returns the element that p names inside seg, and its level.
func resolve(seg *Segment, p Path) (*element, level) {
	if p.Field > len(seg.fields) {
		return nil, 0
	}
	e := seg.fields[p.Field-1]
	if p.Repetition == 0 && p.Component == 0 {
		return e, levelField
	}
	e = e.child(max(p.Repetition, 1))
	if e == nil || p.Component == 0 {
		return e, levelRepetition
	}
	e = e.child(p.Component)
	if e == nil || p.Subcomponent == 0 {
		return e, levelComponent
	}
	return e.child(p.Subcomponent), levelSubcomponent
}

// Get returns the decoded text at path, or "" when the path is invalid or
// names something absent, empty or null. Use Lookup to tell those apart.
func (m *Message) Get(path string) string {
	v, err := m.Lookup(path)
	if err != nil {
		return ""
	}
	return v.Text
}

// Count returns the number of segments with the id of a segment path
// ("OBX"), or the number of repetitions of a field path ("PID-3"). An
// empty or absent field has none.
func (m *Message) Count(path string) (int, error) {
	p, err := ParsePath(path)
	if err != nil {
		return 0, err
	}
	if p.Field == 0 {
		return len(m.SegmentsByID(p.SegmentID)), nil
	}
	if p.Repetition != 0 || p.Component != 0 {
		return 0, fmt.Errorf("%w %q: Count takes a segment or a field path", ErrInvalidPath, path)
	}
	seg := m.Segment(p.SegmentID, p.Occurrence)
	if seg == nil || p.Field > len(seg.fields) {
		return 0, nil
	}
	return seg.fields[p.Field-1].childCount(), nil
}
