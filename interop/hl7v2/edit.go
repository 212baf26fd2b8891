package hl7v2

import (
	"errors"
	"fmt"
	"strings"
)

var errNoEscape = errors.New("hl7v2: value contains a delimiter but MSH-2 defines no escape character")

// Set stores text at path, escaping delimiters and control characters. The
// field, repetition, component or subcomponent is created when missing,
// with empty ones before it. A field path without repetition or component
// replaces the whole field. Set(path, "") makes the value empty; use
// SetNull for the explicit null. Text that is exactly "" (two double
// quotes) is written as \X22\" so it stays text and does not become null.
//
// The edited segment is encoded again from its tree when the message is
// written; the other segments keep their bytes.
func (m *Message) Set(path, text string) error {
	raw, err := Escape(text, m.delimiters)
	if err != nil {
		return fmt.Errorf("hl7v2: set %s: %w", path, err)
	}
	if raw == nullValue {
		e := string(m.delimiters.Escape)
		raw = e + "X22" + e + `"`
	}
	return m.setRaw(path, raw, text)
}

// SetNull stores the explicit null "" at path.
func (m *Message) SetNull(path string) error {
	return m.setRaw(path, nullValue, "")
}

func (m *Message) setRaw(path, raw, text string) error {
	p, err := ParsePath(path)
	if err != nil {
		return err
	}
	if p.Field == 0 {
		return fmt.Errorf("%w %q: Set needs a field", ErrInvalidPath, path)
	}
	seg := m.Segment(p.SegmentID, p.Occurrence)
	if seg == nil {
		return fmt.Errorf("set %s: %w", path, ErrNotFound)
	}
	if isHeader(seg.id) && p.Field <= 2 {
		return fmt.Errorf("%w %q: the delimiters in fields 1 and 2 cannot be set", ErrInvalidPath, path)
	}

	d := &m.delimiters
	if (p.Repetition > 1 && d.Repetition == 0) || (p.Component > 1 && d.Component == 0) ||
		(p.Subcomponent > 1 && d.Subcomponent == 0) {
		return fmt.Errorf("%w %q: MSH-2 defines no separator for that level", ErrInvalidPath, path)
	}

	for len(seg.fields) < p.Field {
		seg.fields = append(seg.fields, &element{})
	}
	if seg.fields[p.Field-1] == emptyElement {
		seg.fields[p.Field-1] = &element{}
	}
	field := seg.fields[p.Field-1]
	switch {
	case p.Repetition == 0 && p.Component == 0:
		seg.fields[p.Field-1] = leafChain(raw, text, levelField)
	case p.Component == 0:
		setChild(field, max(p.Repetition, 1), leafChain(raw, text, levelRepetition))
	default:
		rep := ensureChild(field, max(p.Repetition, 1))
		if p.Subcomponent == 0 {
			setChild(rep, p.Component, leafChain(raw, text, levelComponent))
		} else {
			comp := ensureChild(rep, p.Component)
			setChild(comp, p.Subcomponent, &element{raw: raw, text: text})
			rejoin(comp, d.Subcomponent)
		}
		rejoin(rep, d.Component)
	}

	rejoin(seg.fields[p.Field-1], d.Repetition)
	seg.text = encodeSegment(seg, d.Field)
	seg.raw = nil
	return nil
}

// leafChain returns an element at level l holding one leaf, or an empty
// element for empty raw. The element is collapsed, so it is its
// own only child at every lower level.
func leafChain(raw, text string, l level) *element {
	if raw == "" {
		return &element{}
	}
	return &element{raw: raw, text: text, collapsed: l < levelSubcomponent}
}

// expand turns a collapsed element into one with a real child, so an edit
// can add children beside it.
func expand(e *element) {
	e.loadChildren()
	if !e.collapsed {
		return
	}
	e.collapsed = false
	e.children = []*element{{raw: e.raw, text: e.text, collapsed: true}}
}

// ensureChild returns child n of e, adding empty children up to n.
func ensureChild(e *element, n int) *element {
	expand(e)
	for len(e.children) < n {
		e.children = append(e.children, &element{})
	}
	if e.children[n-1] == emptyElement {
		e.children[n-1] = &element{}
	}
	return e.children[n-1]
}

func setChild(e *element, n int, child *element) {
	ensureChild(e, n)
	e.children[n-1] = child
}

// rejoin recomputes the encoded text of e from its children. An element
// that ends up empty has no children, as the parser builds it.
func rejoin(e *element, sep byte) {
	e.loadChildren()
	if e.collapsed {
		return
	}
	e.raw = join(e.children, sep)
	if e.raw == "" {
		e.children = nil
	}
}

// join encodes children with sep. An element whose only child is empty is
// itself empty.
func join(children []*element, sep byte) string {
	if len(children) == 0 {
		return ""
	}
	if len(children) == 1 {
		return children[0].raw
	}
	var b strings.Builder
	for i, c := range children {
		if i > 0 {
			b.WriteByte(sep)
		}
		b.WriteString(c.raw)
	}
	return b.String()
}

// encodeSegment builds the segment text from its fields.
func encodeSegment(s *Segment, fs byte) string {
	var b strings.Builder
	b.WriteString(s.id)
	rest := s.fields
	if isHeader(s.id) && len(rest) > 0 {
		b.WriteString(rest[0].raw)
		if len(rest) > 1 {
			b.WriteString(rest[1].raw)
		}
		rest = rest[min(2, len(rest)):]
	}
	for _, f := range rest {
		b.WriteByte(fs)
		b.WriteString(f.raw)
	}
	return b.String()
}
