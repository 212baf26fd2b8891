package inbound

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// Enhanced reports whether the message requests enhanced mode
// acknowledgement, which is when MSH-15 or MSH-16 is not empty.
func Enhanced(hdr *hl7v2.Header) bool {
	return hdr.AcceptAckType != "" || hdr.ApplicationAckType != ""
}

// ackCode returns MSA-1 for an outcome in the message's mode: accepted,
// error in the message, or rejected.
func ackCode(hdr *hl7v2.Header, accepted, reject bool) string {
	enhanced := Enhanced(hdr)
	switch {
	case accepted && enhanced:
		return hl7v2.AckCommitAccept
	case accepted:
		return hl7v2.AckAccept
	case reject && enhanced:
		return hl7v2.AckCommitReject
	case reject:
		return hl7v2.AckReject
	case enhanced:
		return hl7v2.AckCommitError
	}
	return hl7v2.AckError
}

// rejectsMessage reports whether errs make the message unprocessable as a
// whole, which HL7 acknowledges with AR rather than AE: an unsupported version,
// unreadable encoding characters or a structure of several messages.
func rejectsMessage(errs []*hl7v2.ParseError) bool {
	for _, e := range errs {
		if e.Severity != hl7v2.SeverityError {
			continue
		}
		switch e.Kind {
		case hl7v2.KindVersion, hl7v2.KindEncodingCharacters, hl7v2.KindMultipleMessages,
			hl7v2.KindMissingMSH, hl7v2.KindSegmentSequence:
			return true
		}
	}
	return false
}

func (h *Handler) accept(res *Result) (*Result, error) {
	return h.buildACK(res, ackCode(res.Header, true, false), nil)
}

func (h *Handler) negative(res *Result, reject bool, errs []*hl7v2.ParseError) (*Result, error) {
	res.Errors = errs
	return h.buildACK(res, ackCode(res.Header, false, reject), errs)
}

func (h *Handler) buildACK(res *Result, code string, errs []*hl7v2.ParseError) (*Result, error) {
	ack, err := hl7v2.BuildACK(res.Header, code, errs, h.now().UTC(), newControlID())
	if err != nil {
		return res, fmt.Errorf("inbound: %w", err)
	}
	res.ACK, res.Code = ack, code
	return res, nil
}

// unsupported is the ERR content for a message type or trigger event that
// the Applier has no mapping for. hl7v2.Kind has no kind for these table
// 0357 codes, so the segment is written here and not by hl7v2.BuildACK.
type unsupported struct {
	component int
	code      string
	text      string
}

var (
	unsupportedType  = unsupported{component: 1, code: "200", text: "Unsupported message type"}
	unsupportedEvent = unsupported{component: 2, code: "201", text: "Unsupported event code"}
)

// rejectUnsupported builds an AR or CR with one ERR segment that points at
// MSH-9.1 or MSH-9.2.
func (h *Handler) rejectUnsupported(res *Result, u unsupported) (*Result, error) {
	res, err := h.buildACK(res, ackCode(res.Header, false, true), nil)
	if err != nil {
		return res, err
	}
	res.Errors = []*hl7v2.ParseError{{
		Kind: hl7v2.KindOther, SegmentID: "MSH", Segment: 1, Occurrence: 1, Field: 9,
		Component: u.component, Offset: -1, Message: strings.ToLower(u.text),
	}}
	res.ACK = append(res.ACK, errSegment(res.Header.Delimiters, u)...)
	return res, nil
}

// errSegment formats ERR||MSH^1^9^1^C|CODE^TEXT^HL70357|E followed by CR,
// in the layout hl7v2.BuildACK uses. The text is ASCII, which every
// character set that hl7v2 supports encodes the same way. Without a
// component separator only ERR-4 is filled, as hl7v2.BuildACK does.
func errSegment(d hl7v2.Delimiters, u unsupported) string {
	if d.Field == 0 {
		d = hl7v2.DefaultDelimiters
	}
	fs := string(d.Field)
	if d.Component == 0 {
		return strings.Join([]string{"ERR", "", "", "", "E"}, fs) + "\r"
	}
	cs := string(d.Component)
	location := strings.Join([]string{"MSH", "1", "9", "1", fmt.Sprint(u.component)}, cs)
	code := strings.Join([]string{u.code, u.text, "HL70357"}, cs)
	return strings.Join([]string{"ERR", "", location, code, "E"}, fs) + "\r"
}

// newControlID returns a random MSH-10 for an ACK: 20 hexadecimal digits,
// the length that MSH-10 allows up to v2.6.
func newControlID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return hex.EncodeToString(b)
}
