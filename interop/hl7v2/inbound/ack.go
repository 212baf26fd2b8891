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

// verdict is the outcome of a message that an ACK reports.
type verdict int

const (
	accepted verdict = iota // applied and committed
	errored                 // a fault in the message (AE, CE)
	rejected                // cannot be processed at all (AR, CR)
)

// originalCodes, commitCodes and applicationCodes are MSA-1 by verdict.
var (
	originalCodes    = [...]string{hl7v2.AckAccept, hl7v2.AckError, hl7v2.AckReject}
	commitCodes      = [...]string{hl7v2.AckCommitAccept, hl7v2.AckCommitError, hl7v2.AckCommitReject}
	applicationCodes = originalCodes
)

// ackRequested reports whether an acknowledgment condition of HL7 table
// 0155 (MSH-15 or MSH-16) requests an ACK of a message with verdict v.
// Empty means none was requested. An unknown value gets the ACK, because
// a sender that set it most likely waits for one.
func ackRequested(condition string, v verdict) bool {
	switch condition {
	case "", "NE":
		return false
	case "ER":
		return v != accepted
	case "SU":
		return v == accepted
	}
	return true
}

// ExpectedACKs returns how many ACKs Handler sends for a message with
// header hdr whose outcome has acknowledgment code code: AA or CA for an
// accepted message, AE or CE for an error, AR or CR for a rejection. A
// sender uses it to know how many frames to read before its next message.
func ExpectedACKs(hdr *hl7v2.Header, code string) int {
	if !Enhanced(hdr) {
		return 1
	}
	v := accepted
	switch code {
	case hl7v2.AckError, hl7v2.AckCommitError:
		v = errored
	case hl7v2.AckReject, hl7v2.AckCommitReject:
		v = rejected
	}
	n := 0
	if ackRequested(hdr.AcceptAckType, v) {
		n++
	}
	if applicationAckFollows(hdr, v) {
		n++
	}
	return n
}

// applicationAckFollows reports whether MSH-16 requests an application
// ACK for verdict v and no negative commit ACK went before it. A CE or CR
// means the message was not accepted for processing, so no application
// ACK follows it.
func applicationAckFollows(hdr *hl7v2.Header, v verdict) bool {
	if v != accepted && ackRequested(hdr.AcceptAckType, v) {
		return false
	}
	return ackRequested(hdr.ApplicationAckType, v)
}

func (h *Handler) accept(res *Result) (*Result, error) {
	return h.respond(res, accepted, nil, nil)
}

func (h *Handler) negative(res *Result, reject bool, errs []*hl7v2.ParseError) (*Result, error) {
	v := errored
	if reject {
		v = rejected
	}
	return h.respond(res, v, errs, nil)
}

// respond builds the ACKs of a message with verdict v. Original mode gets
// one ACK. Enhanced mode gets a commit ACK when MSH-15 requests one and an
// application ACK when MSH-16 does, unless the commit ACK was CE or CR.
// Both are built only once the message's
// effects are committed, so neither CA nor AA can run ahead of the commit.
func (h *Handler) respond(res *Result, v verdict, errs []*hl7v2.ParseError, u *unsupported) (*Result, error) {
	res.Errors = errs
	if u != nil {
		res.Errors = []*hl7v2.ParseError{u.parseError()}
	}
	hdr := res.Header
	if !Enhanced(hdr) {
		ack, err := h.buildACK(hdr, originalCodes[v], errs, u)
		res.ACK, res.Code = ack, originalCodes[v]
		return res, err
	}
	if ackRequested(hdr.AcceptAckType, v) {
		ack, err := h.buildACK(hdr, commitCodes[v], errs, u)
		if err != nil {
			return res, err
		}
		res.ACK, res.Code = ack, commitCodes[v]
	}
	if applicationAckFollows(hdr, v) {
		ack, err := h.buildACK(hdr, applicationCodes[v], errs, u)
		if err != nil {
			return res, err
		}
		res.ApplicationACK, res.ApplicationCode = ack, applicationCodes[v]
	}
	return res, nil
}

func (h *Handler) buildACK(hdr *hl7v2.Header, code string, errs []*hl7v2.ParseError, u *unsupported) ([]byte, error) {
	ack, err := hl7v2.BuildACK(hdr, code, errs, h.now().UTC(), newControlID())
	if err != nil {
		return nil, fmt.Errorf("inbound: %w", err)
	}
	if u != nil {
		ack = append(ack, errSegment(hdr, *u)...)
	}
	return ack, nil
}

// unsupported is the ERR content for a message type or trigger event that
// the Applier has no mapping for. hl7v2.Kind has no kind for these table
// 0357 codes, so the segment is written here and not by hl7v2.BuildACK.
type unsupported struct {
	component int
	code      string
	// text is ERR-3.2, the description of code in table 0357.
	text string
	// diagnostic is ERR-7, the rule that failed, which hl7v2.BuildACK
	// fills from ParseError.Message for every other error.
	diagnostic string
}

var (
	unsupportedType = unsupported{component: 1, code: "200", text: "Unsupported message type",
		diagnostic: "the receiver has no mapping for this message type"}
	unsupportedEvent = unsupported{component: 2, code: "201", text: "Unsupported event code",
		diagnostic: "the receiver has no mapping for this trigger event"}
)

// rejectUnsupported builds an AR or CR with one ERR segment that points at
// MSH-9.1 or MSH-9.2.
func (h *Handler) rejectUnsupported(res *Result, u unsupported) (*Result, error) {
	return h.respond(res, rejected, nil, &u)
}

// parseError returns the located error that Result.Errors reports.
func (u unsupported) parseError() *hl7v2.ParseError {
	return &hl7v2.ParseError{
		Kind: hl7v2.KindOther, SegmentID: "MSH", Segment: 1, Occurrence: 1, Field: 9,
		Component: u.component, Offset: -1, Message: u.diagnostic,
	}
}

// errSegment formats ERR||MSH^1^9^1^C|CODE^TEXT^HL70357|E|||DIAGNOSTIC
// followed by CR, in the layout hl7v2.BuildACK uses. The texts are ASCII,
// which every character set that hl7v2 supports encodes the same way.
// Without a component separator only ERR-4 and ERR-7 are filled, as
// hl7v2.BuildACK does.
func errSegment(hdr *hl7v2.Header, u unsupported) string {
	d := hdr.Delimiters
	if !hdr.ValidEncoding() {
		d = hl7v2.DefaultDelimiters
	}
	fs := string(d.Field)
	// The texts contain only letters and spaces, which are never
	// delimiters, so they need no escaping.
	if d.Component == 0 {
		return strings.Join([]string{"ERR", "", "", "", "E", "", "", u.diagnostic}, fs) + "\r"
	}
	cs := string(d.Component)
	location := strings.Join([]string{"MSH", "1", "9", "1", fmt.Sprint(u.component)}, cs)
	code := strings.Join([]string{u.code, u.text, "HL70357"}, cs)
	return strings.Join([]string{"ERR", "", location, code, "E", "", "", u.diagnostic}, fs) + "\r"
}

// newControlID returns a random MSH-10 for an ACK: 20 hexadecimal digits,
// the length that MSH-10 allows up to v2.6.
func newControlID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return hex.EncodeToString(b)
}
