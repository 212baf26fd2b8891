package hl7v2

import (
	"fmt"
)

// WriteOptions configure Encode.
type WriteOptions struct {
	// Charset is the output character set; nil means the set the message
	// was decoded with. When it differs, every segment is encoded again and
	// MSH-18 is set to its name (left empty for ASCII when it was empty).
	Charset *Charset
}

// Encode writes the message with a CR after every segment. A segment that
// was not edited is written with its original bytes, so an untouched
// message read in strict mode comes back byte for byte. Lenient input comes
// back with CR terminators and without blank lines or byte order mark.
// Edited segments are encoded from the tree, where untouched values keep
// their escape sequences and edited ones were escaped by Set.
//
// A character the output set cannot represent is written as \Xhh..\ (its
// UTF-8 bytes) when the set is ASCII, and is an error for other sets.
func (m *Message) Encode(opts WriteOptions) ([]byte, error) {
	target := opts.Charset
	if target == nil {
		target = m.charset
	}
	size := 0
	for _, s := range m.segments {
		size += len(s.text) + 1
	}
	out := make([]byte, 0, size+size/8)
	for i, s := range m.segments {
		if s.raw != nil && target == m.charset {
			out = append(out, s.raw...)
			out = append(out, '\r')
			continue
		}
		text := s.text
		if i == 0 && target != m.charset {
			text = withCharsetName(s, m, target)
		}
		var ok bool
		out, ok = encodeText(out, text, target, m.delimiters.Escape)
		if !ok {
			return nil, fmt.Errorf("hl7v2: encode segment %d (%s): a character cannot be represented in character set %s", i+1, s.id, target.Name)
		}
		out = append(out, '\r')
	}
	return out, nil
}

// withCharsetName returns the MSH text with MSH-18 naming cs.
func withCharsetName(msh *Segment, m *Message, cs *Charset) string {
	name := cs.Name
	current := ""
	if f := msh.Field(18); f != nil {
		current = f.raw
	}
	if cs == CharsetASCII && current == "" {
		return msh.text
	}
	copied := &Segment{id: msh.id, fields: append([]*element(nil), msh.fields...)}
	for len(copied.fields) < 18 {
		copied.fields = append(copied.fields, &element{})
	}
	copied.fields[17] = leafChain(name, name, levelField)
	return encodeSegment(copied, m.delimiters.Field)
}
