package hl7v2

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// location is a position inside a segment: field, repetition, component,
// subcomponent, each 1-based and 0 when not inside that level.
type location [4]int

// elementPool hands out elements and child slices from larger blocks, so
// that parsing a message makes a few allocations instead of one per node.
type elementPool struct {
	elements []element
	pointers []*element
	// next is the size of the next block of elements and block the size
	// of the blocks after it; 0 means poolBlock. nextPointers and
	// pointerBlock size the blocks of child slices the same way.
	next, block                int
	nextPointers, pointerBlock int
}

const poolBlock = 256

func (a *elementPool) element(raw string) *element {
	if len(a.elements) == 0 {
		n := a.next
		if n <= 0 {
			n = poolBlock
		}
		a.elements = make([]element, n)
		a.next = a.block
	}
	e := &a.elements[0]
	a.elements = a.elements[1:]
	e.raw = raw
	return e
}

// children returns an empty slice with capacity n. Its capacity is capped,
// so an append by an edit reallocates instead of overwriting a neighbour.
func (a *elementPool) children(n int) []*element {
	if len(a.pointers) < n {
		size := a.nextPointers
		if size <= 0 {
			size = poolBlock
		}
		a.nextPointers = a.pointerBlock
		if n > size/4 {
			return make([]*element, 0, n)
		}
		a.pointers = make([]*element, size)
	}
	s := a.pointers[:0:n]
	a.pointers = a.pointers[n:]
	return s
}

// segmentParser builds the tree of one segment and reports its problems.
type segmentParser struct {
	pool     *elementPool
	lazy     *lazyTree
	classes  *byteClasses
	d        *Delimiters
	u        *unescaper
	cs       *Charset
	c        *collector
	maxField int

	id         string
	position   int
	occurrence int
	offset     int
	text       string
}

// errorAt returns a ParseError located at byte i of the segment text.
func (p *segmentParser) errorAt(kind Kind, loc location, i int, message string) *ParseError {
	return &ParseError{
		Kind: kind, SegmentID: p.id, Segment: p.position, Occurrence: p.occurrence,
		Field: loc[0], Repetition: loc[1], Component: loc[2], Subcomponent: loc[3],
		Offset: p.offset + p.cs.rawOffset(p.text, i), Message: message,
	}
}

// parseFields builds the fields of the segment text. Header segments
// (MSH, FHS, BHS) get field 1 holding the field separator and field 2
// holding the encoding characters, unsplit, as HL7 numbers them.
func (p *segmentParser) parseFields() []*element {
	text := p.text
	if len(text) <= 3 {
		return nil
	}
	fs := p.d.Field
	var fields []*element
	rest, base, number := text[4:], 4, 1
	if isHeader(p.id) {
		enc := rest
		if j := strings.IndexByte(rest, fs); j >= 0 {
			enc = rest[:j]
		}
		fields = append(fields, &element{raw: text[3:4], text: text[3:4]}, &element{raw: enc, text: enc})
		if len(enc) == len(rest) {
			return fields
		}
		rest, base, number = rest[len(enc)+1:], base+len(enc)+1, 3
	}
	count := strings.Count(rest, string(fs)) + 1
	if cap(fields) < len(fields)+count {
		grown := append(p.pool.children(len(fields)+count), fields...)
		fields = grown
	}
	if p.classes == nil {
		p.classes = newByteClasses(p.d)
	}
	// One pass finds the field boundaries and whether each field has a
	// separator or an escape character, which decides how it is built.
	classes := p.classes
	start, flags := 0, uint8(0)
	for i := 0; ; i++ {
		if i < len(rest) {
			if class := classes[rest[i]]; class != classField {
				flags |= class
				continue
			}
		}
		raw := rest[start:i]
		if len(raw) > p.maxField {
			e := p.errorAt(KindLimit, location{number}, base+start,
				"field is longer than the maximum field size of "+strconv.Itoa(p.maxField)+" bytes")
			e.Limit = "MaxFieldBytes"
			p.c.add(e)
			raw = ""
		}
		fields = append(fields, p.field(raw, base+start, number, flags))
		if i >= len(rest) {
			return fields
		}
		start, flags, number = i+1, 0, number+1
	}
}

// field builds field number from raw, whose bytes have the classes in
// flags. A value without separators or escapes is one collapsed leaf, and
// one with separators but no escape is split lazily, because splitting it
// can find no error. Only a value with escapes is built at once, so that
// its escape problems are reported by Parse.
func (p *segmentParser) field(raw string, base, number int, flags uint8) *element {
	switch {
	case raw == "":
		return emptyElement
	case flags == 0:
		e := p.pool.element(raw)
		e.text, e.collapsed = raw, true
		return e
	case flags&classEscape == 0 && p.lazy != nil:
		e := p.pool.element(raw)
		e.lazy = p.lazy
		return e
	}
	return p.build(raw, base, levelField, location{number})
}

// byteClasses classifies each byte value for the delimiters of a message.
type byteClasses [256]uint8

const (
	classField uint8 = 1 << iota
	classSeparator
	classEscape
)

func newByteClasses(d *Delimiters) *byteClasses {
	var c byteClasses
	c.set(d)
	return &c
}

// set classifies the delimiters of d, in a table that is all zero.
func (c *byteClasses) set(d *Delimiters) {
	for _, b := range []byte{d.Component, d.Repetition, d.Subcomponent} {
		if b != 0 {
			c[b] |= classSeparator
		}
	}
	if d.Escape != 0 {
		c[d.Escape] |= classEscape
	}
	c[d.Field] = classField
}

// messageArena holds what parsing one message needs once, so that it
// takes one allocation. The Message is part of it, so the arena lives as
// long as the Message.
type messageArena struct {
	msg       Message
	pool      elementPool
	lazy      lazyTree
	unescaper unescaper
	classes   byteClasses
	parser    segmentParser
	counts    [8]segmentCount
}

// build splits raw at level l and decodes the leaves. base is the byte
// offset of raw in the segment text. A value without a separator of level l
// or below becomes one collapsed element instead of a chain of nodes.
func (p *segmentParser) build(raw string, base int, l level, loc location) *element {
	if raw == "" {
		return emptyElement
	}
	e := p.pool.element(raw)
	if l == levelSubcomponent || !p.hasSeparator(raw, l) {
		for k := l + 1; k <= levelSubcomponent; k++ {
			loc[k] = 1
		}
		p.decodeLeaf(e, raw, base, loc)
		e.collapsed = l < levelSubcomponent
		return e
	}
	sep := p.d.separator(l)
	if sep == 0 {
		loc[l+1] = 1
		e.children = append(p.pool.children(1), p.build(raw, base, l+1, loc))
		return e
	}
	e.children = p.pool.children(strings.Count(raw, string(sep)) + 1)
	start, n := 0, 1
	for {
		j := strings.IndexByte(raw[start:], sep)
		piece := raw[start:]
		if j >= 0 {
			piece = raw[start : start+j]
		}
		loc[l+1] = n
		e.children = append(e.children, p.build(piece, base+start, l+1, loc))
		if j < 0 {
			return e
		}
		start += j + 1
		n++
	}
}

// hasSeparator reports whether raw contains the separator of level l or of
// a level below it.
func (p *segmentParser) hasSeparator(raw string, l level) bool {
	for ; l < levelSubcomponent; l++ {
		if sep := p.d.separator(l); sep != 0 && strings.IndexByte(raw, sep) >= 0 {
			return true
		}
	}
	return false
}

// decodeLeaf sets the decoded text of leaf e and reports its escape
// problems at loc.
func (p *segmentParser) decodeLeaf(e *element, raw string, base int, loc location) {
	e.text = raw
	if raw == nullValue {
		return
	}
	text, problems := p.u.decode(raw)
	e.text = text
	for _, pr := range problems {
		p.c.problem(p.errorAt(KindEscape, loc, base+pr.offset, pr.message))
	}
}

// validSegmentID reports whether id is three uppercase letters or digits.
func validSegmentID(id string) bool {
	if len(id) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// miscasedSegmentID returns the id of a segment that starts with a
// standard segment id in the wrong case ("pid|"), as sent, so that an ERR
// can name it. Other invalid ids are not returned, because the start of a
// segment cut off by a stray terminator may be patient data.
func miscasedSegmentID(text string, fs byte) (string, bool) {
	if len(text) < 3 || (len(text) > 3 && text[3] != fs) {
		return "", false
	}
	id := text[:3]
	for i := 0; i < 3; i++ {
		if !isAlnum(id[i]) {
			return "", false
		}
	}
	return id, standardSegmentIDs[strings.ToUpper(id)]
}

// standardSegmentIDs are segment ids that HL7 v2 defines, for
// miscasedSegmentID. The list covers the segments of the common message
// types and is not complete.
var standardSegmentIDs = map[string]bool{
	"ACC": true, "AIG": true, "AIL": true, "AIP": true, "AIS": true, "AL1": true, "BHS": true,
	"BTS": true, "CTD": true, "CTI": true, "DB1": true, "DG1": true, "DRG": true, "ERR": true,
	"EVN": true, "FHS": true, "FT1": true, "FTS": true, "GT1": true, "IN1": true, "IN2": true,
	"IN3": true, "MFE": true, "MFI": true, "MRG": true, "MSA": true, "MSH": true, "NK1": true,
	"NTE": true, "OBR": true, "OBX": true, "ORC": true, "PD1": true, "PDA": true, "PID": true,
	"PR1": true, "PV1": true, "PV2": true, "QAK": true, "QPD": true, "QRD": true, "RCP": true,
	"RGS": true, "ROL": true, "RXA": true, "RXC": true, "RXD": true, "RXE": true, "RXO": true,
	"RXR": true, "SCH": true, "SFT": true, "SPM": true, "TQ1": true, "TXA": true, "UB1": true,
	"UB2": true,
}

// mshField returns field n (1-based) of raw MSH bytes, before decoding.
func mshField(b []byte, fs byte, n int) []byte {
	if len(b) < 4 {
		return nil
	}
	if n == 1 {
		return b[3:4]
	}
	rest := b[4:]
	for field := 2; field < n; field++ {
		j := bytes.IndexByte(rest, fs)
		if j < 0 {
			return nil
		}
		rest = rest[j+1:]
	}
	if j := bytes.IndexByte(rest, fs); j >= 0 {
		return rest[:j]
	}
	return rest
}

// parseMessage builds a message from its raw segments, the first of which
// is an MSH.
func parseMessage(segs []rawSegment, opts ParseOptions, c *collector) *Message {
	head := segs[0]
	fs := head.data[3]
	if limit := opts.Limits.MaxSegments; len(segs) > limit {
		e := &ParseError{
			Kind: KindLimit, Offset: segs[limit].offset, Limit: "MaxSegments", Segment: segs[limit].position,
			Message: "message has more than the maximum of " + strconv.Itoa(limit) + " segments",
		}
		e.SegmentID, e.Occurrence = segmentOccurrence(segs[limit].data, segs[:limit], fs)
		c.add(e)
		segs = segs[:limit]
	}

	d, problem := parseEncoding(fs, string(mshField(head.data, fs, 2)))
	if problem != "" {
		c.add(&ParseError{Kind: KindEncodingCharacters, SegmentID: "MSH", Segment: 1, Occurrence: 1, Field: 2, Offset: head.offset + 4, Message: problem})
	}

	arena := &messageArena{}
	m := &arena.msg
	m.delimiters, m.lenient, m.offset = d, opts.Lenient, head.offset
	m.charset = chooseCharset(head, &d, c)
	m.declared = m.charset
	texts := decodeSegments(segs, m, c)

	arena.unescaper = unescaper{d: &m.delimiters, charset: m.charset, lenient: opts.Lenient}
	u := &arena.unescaper
	occurrences := segmentCounts(arena.counts[:0])
	segments := make([]Segment, len(segs))
	m.segments = make([]*Segment, 0, len(segs))
	// Most fields of a message are empty, split lazily or one leaf, so
	// the fields that are not empty bound the elements that parsing makes.
	valued, fields := fieldCount(segs, fs)
	arena.pool = elementPool{next: valued, nextPointers: fields + 2*len(segs)}
	pool := &arena.pool
	lazy := &arena.lazy
	lazy.d, lazy.u = &m.delimiters, u
	lazy.pool = elementPool{next: 16, block: 64, nextPointers: 32, pointerBlock: 128}
	arena.classes.set(&m.delimiters)

	p := &arena.parser
	for i, s := range segs {
		text := texts[i]
		*p = segmentParser{
			pool: pool, lazy: lazy, classes: &arena.classes, d: &m.delimiters, u: u, cs: m.charset, c: c,
			maxField: opts.Limits.MaxFieldBytes, position: s.position, offset: s.offset, text: text,
		}
		if len(text) < 3 || !validSegmentID(text[:3]) || (len(text) > 3 && text[3] != fs) {
			e := p.errorAt(KindSegmentID, location{}, 0, "segment id must be three uppercase letters or digits followed by the field separator")
			if id, ok := miscasedSegmentID(text, fs); ok {
				e.SegmentID, e.Occurrence = id, occurrences.add(id)
			}
			c.add(e)
			continue
		}
		p.id = text[:3]
		p.occurrence = occurrences.add(p.id)
		if i > 0 && isHeader(p.id) {
			c.add(p.errorAt(KindSegmentSequence, location{}, 0, "header segment inside a message"))
			continue
		}
		seg := &segments[i]
		*seg = Segment{id: p.id, text: text, raw: s.data, offset: s.offset, position: s.position}
		seg.fields = p.parseFields()
		m.segments = append(m.segments, seg)
	}

	if len(m.segments) > 0 && m.segments[0].id == "MSH" {
		checkHeader(m, c)
	}
	return m
}

// fieldCount returns the number of fields in segs that are not empty, and
// so need an element of their own (empty ones share emptyElement), and the
// number of all fields.
func fieldCount(segs []rawSegment, fs byte) (valued, all int) {
	for _, s := range segs {
		b := s.data
		for {
			j := bytes.IndexByte(b, fs)
			if j < 0 {
				break
			}
			all++
			if j+1 < len(b) && b[j+1] != fs {
				valued++
			}
			b = b[j+1:]
		}
	}
	return valued, all
}

// chooseCharset reads MSH-18 from the raw header bytes.
func chooseCharset(head rawSegment, d *Delimiters, c *collector) *Charset {
	field := mshField(head.data, d.Field, 18)
	name := string(field)
	loc := &ParseError{SegmentID: "MSH", Segment: 1, Occurrence: 1, Field: 18, Offset: head.offset}
	if d.Repetition != 0 {
		if j := strings.IndexByte(name, d.Repetition); j >= 0 {
			name = name[:j]
			e := *loc
			e.Kind, e.Message = KindCharset, "MSH-18 repetitions (character set switching) are not supported; the first one is used"
			c.problem(&e)
		}
	}
	if cs, ok := LookupCharset(name); ok {
		return cs
	}
	if c.lenient {
		if cs, ok := lookupCharsetLenient(name); ok {
			e := *loc
			e.Kind, e.Severity, e.Message = KindCharset, SeverityWarning, "MSH-18 is not an HL7 table 0211 code; read as its usual meaning"
			c.add(&e)
			return cs
		}
	}
	e := *loc
	e.Kind, e.Message = KindCharset, "MSH-18 names a character set that is not supported"
	c.problem(&e)
	return CharsetUTF8
}

// decodeSegments converts every segment to UTF-8 text. In strict mode a
// byte that is invalid in the declared set is an error. Lenient mode then
// reads the whole message as UTF-8 if it is valid UTF-8, else as ISO
// 8859-1, and records one warning.
func decodeSegments(segs []rawSegment, m *Message, c *collector) []string {
	if texts, ok := decodeSpan(segs, m.charset); ok {
		return texts
	}
	texts := make([]string, len(segs))
	decodeAll := func(cs *Charset) (int, int) {
		for i, s := range segs {
			text, bad := cs.decode(s.data)
			if bad >= 0 {
				return i, bad
			}
			texts[i] = text
		}
		return -1, -1
	}

	seg, bad := decodeAll(m.charset)
	if seg < 0 {
		return texts
	}
	e := &ParseError{
		Kind: KindCharset, Offset: segs[seg].offset + bad,
		Message: "byte is invalid in the message character set",
	}
	locateByte(e, segs, seg, bad, &m.delimiters)
	if !c.lenient {
		c.add(e)
		for i, s := range segs {
			if text, b := m.charset.decode(s.data); b < 0 {
				texts[i] = text
			} else {
				texts[i] = decodeLatin1(s.data)
			}
		}
		return texts
	}

	e.Severity = SeverityWarning
	if m.charset != CharsetUTF8 {
		if s, _ := decodeAll(CharsetUTF8); s < 0 {
			e.Message = "byte is invalid in the message character set; message read as UTF-8"
			c.add(e)
			m.charset = CharsetUTF8
			return texts
		}
	}
	decodeAll(CharsetLatin1)
	e.Message = "byte is invalid in the message character set; message read as ISO 8859-1"
	c.add(e)
	m.charset = CharsetLatin1
	return texts
}

// decodeSpan decodes the segments of an ASCII or UTF-8 message with one
// conversion, which they share as substrings. The segments are slices of
// one input in order, so the bytes from the first to the end of the last
// are within the capacity of the first. It reports false when the set has
// to map bytes, or a byte is invalid, for decodeSegments to handle.
func decodeSpan(segs []rawSegment, cs *Charset) ([]string, bool) {
	if cs.charmap != nil || len(segs) == 0 {
		return nil, false
	}
	first, last := segs[0], segs[len(segs)-1]
	size := last.offset - first.offset + len(last.data)
	if size < 0 || size > cap(first.data) {
		return nil, false
	}
	span := first.data[:size]
	if cs.utf8 && !utf8.Valid(span) {
		return nil, false
	}
	if !cs.utf8 {
		for _, x := range span {
			if x >= 0x80 {
				return nil, false
			}
		}
	}
	text := string(span)
	texts := make([]string, len(segs))
	for i, s := range segs {
		start := s.offset - first.offset
		texts[i] = text[start : start+len(s.data)]
	}
	return texts, true
}

// segmentCounts counts the segments of each id seen so far. A message has
// few distinct ids, so a list is faster than a map.
type segmentCounts []segmentCount

type segmentCount struct {
	id    string
	count int
}

// add counts one more segment with id and returns its occurrence.
func (c *segmentCounts) add(id string) int {
	for i := range *c {
		if (*c)[i].id == id {
			(*c)[i].count++
			return (*c)[i].count
		}
	}
	*c = append(*c, segmentCount{id, 1})
	return 1
}

// fieldOffset returns the byte offset in the input where field n of s
// starts, or the segment's offset when the segment has fewer fields.
func (s *Segment) fieldOffset(n int, fs byte, cs *Charset) int {
	if isHeader(s.id) {
		if n == 1 {
			return s.offset + 3
		}
		n--
	}
	i, seen := 0, 0
	for i < len(s.text) {
		j := strings.IndexByte(s.text[i:], fs)
		if j < 0 {
			return s.offset
		}
		i += j + 1
		seen++
		if seen == n {
			return s.offset + cs.rawOffset(s.text, i)
		}
	}
	return s.offset
}
