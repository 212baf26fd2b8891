package hl7v2

import "sync/atomic"

// level is the depth of an element below its segment.
type level int

const (
	levelField level = iota
	levelRepetition
	levelComponent
	levelSubcomponent
)

// element is a node of the tree below a segment. raw is the element's text
// as encoded in the message, in UTF-8 with delimiters and escape sequences,
// and is a substring of the segment text unless edited. An element with
// empty raw has no children, and every other element above the
// subcomponent level has at least one. Subcomponents are leaves and also
// carry their decoded text.
//
// A collapsed element has no separator of a lower level in raw, so it is
// its own only child at every level below it and carries the decoded text
// itself. The parser builds most fields this way, which saves up to three
// nodes per value. Edits expand it first (see expand).
//
// A field with lazy set has its children built on first use (see loadChildren),
// and split records that they were.
type element struct {
	raw       string
	text      string
	children  []*element
	lazy      *lazyTree
	split     atomic.Bool
	collapsed bool
}

// emptyElement is the one element of every empty value the parser reads.
// It is never changed: an edit replaces it with a new element first (see
// ensureChild and Message.setRaw).
var emptyElement = &element{}

// single returns the one leaf below e when e holds exactly one (no
// separator inside it), or nil.
func (e *element) single() *element {
	for len(e.loadChildren()) == 1 {
		e = e.children[0]
	}
	if len(e.children) == 0 {
		return e
	}
	return nil
}

// childCount returns the number of children of e.
func (e *element) childCount() int {
	children := e.loadChildren()
	if e.collapsed {
		return 1
	}
	return len(children)
}

// childAt returns child i (0-based) of e, which must exist.
func (e *element) childAt(i int) *element {
	children := e.loadChildren()
	if e.collapsed {
		return e
	}
	return children[i]
}

// decoded returns the decoded text of e when it holds one leaf, and its
// encoded text otherwise.
func (e *element) decoded(l level) string {
	if e.raw == "" {
		return ""
	}
	if l == levelSubcomponent {
		if e.raw == nullValue {
			return ""
		}
		return e.text
	}
	leaf := e.single()
	if leaf == nil {
		return e.raw
	}
	if leaf.raw == nullValue {
		return ""
	}
	return leaf.text
}

func (e *element) child(n int) *element {
	if e == nil || n < 1 || n > e.childCount() {
		return nil
	}
	return e.childAt(n - 1)
}

// nullValue is the HL7 explicit null: two double quotes, meaning "delete
// the stored value", which differs from an empty (not sent) value.
const nullValue = `""`

// Field is one field of a segment: its repetitions, split on the
// repetition separator. MSH-1 and MSH-2 are fields with one leaf holding
// the separator and the encoding characters.
type Field element

// Raw returns the field as encoded in the message.
func (f *Field) Raw() string { return f.raw }

// Text returns the decoded value when the field holds one value (no
// separator inside it), and the encoded text otherwise. An explicit null
// gives "".
func (f *Field) Text() string { return (*element)(f).decoded(levelField) }

// IsNull reports whether the field is the explicit null "".
func (f *Field) IsNull() bool { return f.raw == nullValue }

// IsEmpty reports whether the field is present but has no value.
func (f *Field) IsEmpty() bool { return f.raw == "" }

// Repetitions returns the repetitions; an empty field has none, and "~"
// has two empty ones.
func (f *Field) Repetitions() []*Repetition {
	e := (*element)(f)
	reps := make([]*Repetition, e.childCount())
	for i := range reps {
		reps[i] = (*Repetition)(e.childAt(i))
	}
	return reps
}

// Repetition returns the n-th repetition (1-based), or nil.
func (f *Field) Repetition(n int) *Repetition {
	return (*Repetition)((*element)(f).child(n))
}

// Repetition is one occurrence of a repeating field, split into components.
type Repetition element

// Raw returns the repetition as encoded in the message.
func (r *Repetition) Raw() string { return r.raw }

// Text returns the decoded value when the repetition holds one value, and
// the encoded text otherwise.
func (r *Repetition) Text() string { return (*element)(r).decoded(levelRepetition) }

// Components returns the components.
func (r *Repetition) Components() []*Component {
	e := (*element)(r)
	comps := make([]*Component, e.childCount())
	for i := range comps {
		comps[i] = (*Component)(e.childAt(i))
	}
	return comps
}

// Component returns the n-th component (1-based), or nil.
func (r *Repetition) Component(n int) *Component {
	return (*Component)((*element)(r).child(n))
}

// Component is one component, split into subcomponents.
type Component element

// Raw returns the component as encoded in the message.
func (c *Component) Raw() string { return c.raw }

// Text returns the decoded value when the component has one subcomponent,
// and the encoded text otherwise.
func (c *Component) Text() string { return (*element)(c).decoded(levelComponent) }

// Subcomponents returns the subcomponents.
func (c *Component) Subcomponents() []*Subcomponent {
	e := (*element)(c)
	subs := make([]*Subcomponent, e.childCount())
	for i := range subs {
		subs[i] = (*Subcomponent)(e.childAt(i))
	}
	return subs
}

// Subcomponent returns the n-th subcomponent (1-based), or nil.
func (c *Component) Subcomponent(n int) *Subcomponent {
	return (*Subcomponent)((*element)(c).child(n))
}

// Subcomponent is a leaf: the smallest unit, with its decoded text.
type Subcomponent element

// Raw returns the subcomponent as encoded in the message.
func (s *Subcomponent) Raw() string { return s.raw }

// Text returns the decoded value; an explicit null gives "".
func (s *Subcomponent) Text() string { return (*element)(s).decoded(levelSubcomponent) }

// IsNull reports whether the value is the explicit null "".
func (s *Subcomponent) IsNull() bool { return s.raw == nullValue }

// Segment is one segment of a message.
type Segment struct {
	id string
	// fields[0] is field 1, which for MSH, FHS and BHS is the field
	// separator.
	fields []*element
	// text is the segment in UTF-8, without its terminator.
	text string
	// raw holds the original bytes; nil once the segment has been edited,
	// so the writer encodes it again from the tree.
	raw    []byte
	offset int
	// position is the segment's position in its message (see
	// ParseError.Segment), 0 for an envelope segment.
	position int
}

// ID returns the three-character segment id.
func (s *Segment) ID() string { return s.id }

// Raw returns the segment as encoded, in UTF-8 and without terminator.
func (s *Segment) Raw() string { return s.text }

// Offset returns the segment's byte offset in the parsed input, or -1 for
// a segment built by the package.
func (s *Segment) Offset() int { return s.offset }

// FieldCount returns the number of fields present, counting empty ones.
func (s *Segment) FieldCount() int { return len(s.fields) }

// Field returns field n (1-based, as in PID-3), or nil when the segment
// has fewer fields.
func (s *Segment) Field(n int) *Field {
	if n < 1 || n > len(s.fields) {
		return nil
	}
	return (*Field)(s.fields[n-1])
}

// isHeader reports whether the segment defines its own delimiters in
// fields 1 and 2.
func isHeader(id string) bool {
	return id == "MSH" || id == "FHS" || id == "BHS"
}

// Message is a parsed HL7 v2 message: its segments in order, with the
// delimiters and character set its MSH declares.
//
// A Message is not safe for concurrent use when one goroutine edits it;
// concurrent reads are safe.
type Message struct {
	segments   []*Segment
	delimiters Delimiters
	// charset is the set used to decode the message, which lenient mode
	// may have chosen in place of the declared one. The writer uses it for
	// edited segments.
	charset *Charset
	// declared is the set MSH-18 names (or the one lenient mode read it as).
	declared *Charset
	lenient  bool
	warnings []*ParseError
	offset   int
}

// Segments returns the segments in order.
func (m *Message) Segments() []*Segment { return m.segments }

// Delimiters returns the delimiters read from MSH-1 and MSH-2.
func (m *Message) Delimiters() Delimiters { return m.delimiters }

// Charset returns the character set the message was decoded with.
func (m *Message) Charset() *Charset { return m.charset }

// Warnings returns what lenient mode accepted but the standard does not
// allow, located like errors.
func (m *Message) Warnings() []*ParseError { return m.warnings }

// Segment returns the n-th segment (1-based) with the given id, or nil.
func (m *Message) Segment(id string, n int) *Segment {
	for _, s := range m.segments {
		if s.id == id {
			n--
			if n == 0 {
				return s
			}
		}
	}
	return nil
}

// SegmentsByID returns every segment with the given id, in order.
func (m *Message) SegmentsByID(id string) []*Segment {
	var out []*Segment
	for _, s := range m.segments {
		if s.id == id {
			out = append(out, s)
		}
	}
	return out
}

// MSH returns the message header segment.
func (m *Message) MSH() *Segment {
	if len(m.segments) == 0 {
		return nil
	}
	return m.segments[0]
}
