package hl7v2

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Header contains the MSH fields that routing and acknowledgement need.
// Composite fields (HD, MSG, PT, VID) are kept encoded, as sent, so they can
// be compared and copied into an ACK exactly. Single-value fields are
// decoded.
type Header struct {
	Delimiters Delimiters
	// EncodingCharacters is MSH-2 byte for byte.
	EncodingCharacters   string
	SendingApplication   string // MSH-3, encoded
	SendingFacility      string // MSH-4, encoded
	ReceivingApplication string // MSH-5, encoded
	ReceivingFacility    string // MSH-6, encoded
	DateTime             string // MSH-7, encoded
	MessageType          string // MSH-9, encoded, such as "ADT^A01^ADT_A01"
	MessageCode          string // MSH-9.1
	TriggerEvent         string // MSH-9.2
	MessageStructure     string // MSH-9.3
	ControlID            string // MSH-10
	ProcessingID         string // MSH-11, encoded
	VersionID            string // MSH-12, encoded
	Version              string // MSH-12.1, such as "2.5.1"
	AcceptAckType        string // MSH-15
	ApplicationAckType   string // MSH-16
	CharacterSet         string // MSH-18, encoded
	// Charset is the character set that MSH-18 declares, which BuildACK
	// encodes the ACK in.
	Charset *Charset
}

// Header returns the MSH fields of a parsed message. It agrees with
// ParseHeader on the same input.
func (m *Message) Header() *Header {
	msh := m.MSH()
	if msh == nil || msh.id != "MSH" {
		return nil
	}
	raw := func(n int) string {
		if f := msh.Field(n); f != nil {
			return f.raw
		}
		return ""
	}
	text := m.mshText
	return &Header{
		Delimiters:           m.delimiters,
		EncodingCharacters:   m.delimiters.Encoding,
		SendingApplication:   raw(3),
		SendingFacility:      raw(4),
		ReceivingApplication: raw(5),
		ReceivingFacility:    raw(6),
		DateTime:             raw(7),
		MessageType:          raw(9),
		MessageCode:          text(9, 1),
		TriggerEvent:         text(9, 2),
		MessageStructure:     text(9, 3),
		ControlID:            text(10, 0),
		ProcessingID:         raw(11),
		VersionID:            raw(12),
		Version:              text(12, 1),
		AcceptAckType:        text(15, 0),
		ApplicationAckType:   text(16, 0),
		CharacterSet:         raw(18),
		Charset:              m.declared,
	}
}

// mshText returns the decoded text of MSH-field, or of its component in
// the first repetition when component is not 0, as Get does for the path
// without parsing one.
func (m *Message) mshText(field, component int) string {
	return m.LookupPath(Path{SegmentID: "MSH", Occurrence: 1, Field: field, Component: component}).Text
}

// ValidEncoding reports whether MSH-1 and MSH-2 are valid delimiters, so
// that an ACK can be written with them.
func (h *Header) ValidEncoding() bool {
	if !isDelimiterChar(h.Delimiters.Field) {
		return false
	}
	_, problem := parseEncoding(h.Delimiters.Field, h.EncodingCharacters)
	return problem == ""
}

// withDefaultDelimiters returns a copy of h that uses DefaultDelimiters.
// The MSH fields that an ACK copies are escaped when they contain a
// default delimiter other than the component separator, because the
// sender's own delimiters cannot be trusted to tell data from structure.
func (h *Header) withDefaultDelimiters() *Header {
	out := *h
	out.Delimiters = DefaultDelimiters
	out.EncodingCharacters = DefaultDelimiters.Encoding
	for _, field := range []*string{
		&out.SendingApplication, &out.SendingFacility,
		&out.ReceivingApplication, &out.ReceivingFacility,
		&out.ProcessingID, &out.VersionID, &out.CharacterSet,
	} {
		if strings.ContainsAny(*field, "|~\\&") {
			// Escape fails only without an escape character, and the
			// default delimiters have one.
			*field, _ = Escape(*field, DefaultDelimiters)
		}
	}
	return &out
}

// ParseHeader reads only the MSH segment at the start of data, with the
// framing rules of lenient mode: a byte order mark is skipped and the
// segment ends at CR or LF. It runs the same code as Parse on that one segment, so
// the two agree. The header is returned together with an error when MSH
// was found but has problems, such as an unsupported version, so that a
// negative ACK can still be addressed.
func ParseHeader(data []byte) (*Header, error) {
	opts := ParseOptions{Lenient: true}.WithDefaults()
	c := newCollector(opts)
	offset := 0
	if bytes.HasPrefix(data, utf8BOM) {
		data, offset = data[len(utf8BOM):], len(utf8BOM)
	}
	end := bytes.IndexAny(data, "\r\n")
	if end < 0 {
		end = len(data)
	}
	if end > opts.Limits.MaxMessageBytes {
		c.add(limitError("MaxMessageBytes", "the MSH segment", end, opts.Limits.MaxMessageBytes, offset))
		return nil, c.result()
	}
	first := data[:end]
	if !isMessageStart(first) {
		c.add(&ParseError{Kind: KindMissingMSH, Offset: offset, Message: "input does not start with an MSH segment"})
		return nil, c.result()
	}
	m := parseMessage([]rawSegment{{data: first, offset: offset, position: 1}}, opts, c)
	return m.Header(), c.result()
}

// knownVersions are the HL7 v2 versions whose rules this package applies.
var knownVersions = map[string]bool{
	"2.1": true, "2.2": true, "2.3": true, "2.3.1": true, "2.4": true,
	"2.5": true, "2.5.1": true, "2.6": true, "2.7": true, "2.7.1": true,
	"2.8": true, "2.8.1": true, "2.8.2": true, "2.9": true, "2.9.1": true,
}

// parseVersion splits a version such as "2.5.1" into its numbers.
func parseVersion(v string) (major, minor int, ok bool) {
	var nums [3]int
	parts := 0
	for rest := v; ; parts++ {
		if parts == len(nums) {
			return 0, 0, false
		}
		part, tail, more := strings.Cut(rest, ".")
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 || part == "" || part[0] == '+' {
			return 0, 0, false
		}
		nums[parts] = n
		if !more {
			break
		}
		rest = tail
	}
	if parts < 1 {
		return 0, 0, false
	}
	return nums[0], nums[1], true
}

// checkHeader validates the MSH fields that the parser itself relies on:
// MSH-7, MSH-9, MSH-10, MSH-11 and MSH-12, the features that MSH-12
// allows, and the acknowledgment conditions MSH-15 and MSH-16.
func checkHeader(m *Message, c *collector) {
	msh := m.segments[0]
	at := func(field int, kind Kind, message string) *ParseError {
		return &ParseError{
			Kind: kind, SegmentID: "MSH", Segment: 1, Occurrence: 1, Field: field,
			Offset: msh.fieldOffset(field, m.delimiters.Field, m.charset), Message: message,
		}
	}
	for _, f := range []struct {
		number, component int
		path              string
	}{{7, 0, "MSH-7"}, {9, 1, "MSH-9.1"}, {10, 0, "MSH-10"}, {11, 0, "MSH-11"}, {12, 0, "MSH-12"}} {
		if m.mshText(f.number, f.component) == "" {
			c.problem(at(f.number, KindRequiredField, f.path+" is required"))
		}
	}

	version := m.mshText(12, 1)
	if version != "" {
		major, minor, ok := parseVersion(version)
		switch {
		case !ok || major != 2:
			c.add(at(12, KindVersion, "MSH-12 is not an HL7 v2 version"))
		case !knownVersions[version]:
			c.problem(at(12, KindVersion, "MSH-12 names an HL7 v2 version that the receiver does not support"))
		case m.delimiters.Truncation != 0 && minor < 7:
			c.problem(at(2, KindVersionFeature, "truncation character in MSH-2 is defined from v2.7 on, but MSH-12 names an earlier version"))
		}
	}

	// MSH-15 and MSH-16 take the acknowledgment conditions of HL7 table
	// 0155. Lenient mode reads other values as AL, so that a sender that
	// set one still gets its ACKs.
	for _, field := range []int{15, 16} {
		switch m.mshText(field, 0) {
		case "", "AL", "NE", "ER", "SU":
		default:
			c.problem(at(field, KindTableValue,
				fmt.Sprintf("MSH-%d is not an acknowledgment condition of HL7 table 0155 (AL, NE, ER, SU); read as AL", field)))
		}
	}

	if dtm := m.mshText(7, 1); dtm != "" {
		dt, err := ParseDateTime(dtm, c.lenient)
		switch {
		case err != nil:
			e := at(7, KindDataType, "MSH-7 is not a valid timestamp: "+dateTimeReason(err))
			c.problem(e)
		case dt.ShortOffset:
			e := at(7, KindDataType, "MSH-7 offset has hours only; read as whole hours")
			e.Severity = SeverityWarning
			c.add(e)
		}
	}
}
