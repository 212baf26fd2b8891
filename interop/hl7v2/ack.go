package hl7v2

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Acknowledgment codes of HL7 table 0008 (MSA-1).
const (
	AckAccept         = "AA"
	AckError          = "AE"
	AckReject         = "AR"
	AckCommitAccept   = "CA"
	AckCommitError    = "CE"
	AckCommitReject   = "CR"
	ackMessageType    = "ACK"
	hl7ErrorCodeTable = "HL70357"
)

var ackCodes = map[string]bool{
	AckAccept: true, AckError: true, AckReject: true,
	AckCommitAccept: true, AckCommitError: true, AckCommitReject: true,
}

// HL7Code returns the HL7 table 0357 code for the error: 104 (value too
// long) for a field over MaxFieldBytes, otherwise the code of its kind.
func (e *ParseError) HL7Code() string {
	if e.Kind == KindLimit && e.Limit == "MaxFieldBytes" {
		return "104"
	}
	return e.Kind.HL7Code()
}

// BuildACK returns an acknowledgement of the message whose header is hdr
// (from Message.Header or ParseHeader), with CR terminators:
//
//   - MSH-2 copied byte for byte, so the ACK uses the sender's delimiters;
//   - MSH-3/4 and MSH-5/6 swapped; MSH-7 is now, to the second, with its
//     offset; MSH-9 is ACK^<trigger>^ACK; MSH-10 is controlID; MSH-11,
//     MSH-12 and MSH-18 copied;
//   - MSA-1 code (AA, AE, AR, CA, CE or CR) and MSA-2 the original MSH-10;
//   - one ERR per entry of errs, with ERR-2 locating it as
//     segment^sequence^field^repetition^component^subcomponent, ERR-3 the
//     table 0357 code, ERR-4 the severity (E or W) and ERR-7 the error's
//     message, such as "non-CR segment terminator (CRLF)". ERR never
//     carries a value of the message. ERR-2 names the segment by its id whenever
//     the id is valid or a standard id in the wrong case ("pid", named as
//     sent). A blank segment, or one with any other id, has an empty
//     segment id and its position in the message (ParseError.Segment) as
//     sequence. An error with neither id nor position concerns the whole
//     input or the bytes before MSH, and is located at MSH^1.
//
// The ACK is encoded in the header's character set. When MSH-1 or MSH-2
// of the message is invalid (see Header.ValidEncoding), the ACK cannot
// trust them: it is written with DefaultDelimiters, and a copied header
// field that contains "|", "~", "\" or "&" is written escaped.
func BuildACK(hdr *Header, code string, errs []*ParseError, now time.Time, controlID string) ([]byte, error) {
	if hdr == nil {
		return nil, errors.New("hl7v2: build ACK: header is nil")
	}
	if !ackCodes[code] {
		return nil, fmt.Errorf("hl7v2: build ACK: acknowledgment code %q is not one of AA, AE, AR, CA, CE, CR", code)
	}
	if !hdr.ValidEncoding() {
		hdr = hdr.withDefaultDelimiters()
	}

	d := hdr.Delimiters
	controlRaw, err := Escape(controlID, d)
	if err != nil {
		return nil, fmt.Errorf("hl7v2: build ACK: control id: %w", err)
	}

	fs := string(d.Field)
	cs := string(d.Component)
	if d.Component == 0 {
		cs = ""
	}
	messageType := ackMessageType
	if hdr.TriggerEvent != "" && cs != "" {
		trigger, err := Escape(hdr.TriggerEvent, d)
		if err != nil {
			return nil, fmt.Errorf("hl7v2: build ACK: trigger event: %w", err)
		}
		messageType = ackMessageType + cs + trigger + cs + ackMessageType
	}

	msh := []string{
		"MSH", hdr.EncodingCharacters,
		hdr.ReceivingApplication, hdr.ReceivingFacility,
		hdr.SendingApplication, hdr.SendingFacility,
		DateTimeFromTime(now).String(), "",
		messageType, controlRaw, hdr.ProcessingID, hdr.VersionID,
	}
	if hdr.CharacterSet != "" {
		msh = append(msh, "", "", "", "", "", hdr.CharacterSet)
	}
	originalID, err := Escape(hdr.ControlID, d)
	if err != nil {
		return nil, fmt.Errorf("hl7v2: build ACK: original control id: %w", err)
	}
	segments := []string{
		strings.Join(msh, fs),
		strings.Join([]string{"MSA", code, originalID}, fs),
	}
	for _, e := range errs {
		if e != nil {
			segments = append(segments, errSegment(e, d, fs, cs))
		}
	}

	text := strings.Join(segments, "\r") + "\r"
	charset := hdr.Charset
	if charset == nil {
		charset = CharsetASCII
	}
	out, ok := encodeText(make([]byte, 0, len(text)), text, charset, d.Escape)
	if !ok {
		return nil, fmt.Errorf("hl7v2: build ACK: a header field cannot be represented in character set %s", charset.Name)
	}
	return out, nil
}

// errSegment formats one ERR segment. Without a component separator the
// location and code cannot be split, so only ERR-4 is filled.
func errSegment(e *ParseError, d Delimiters, fs, cs string) string {
	severity := e.Severity.String()
	// ERR-7 (diagnostic information) carries the error's message, which
	// names the rule and never a value of the message. A message that
	// cannot be escaped in d is left out.
	diagnostic, err := Escape(e.Message, d)
	if err != nil {
		diagnostic = ""
	}
	if cs == "" {
		return strings.TrimRight(strings.Join([]string{"ERR", "", "", "", severity, "", "", diagnostic}, fs), fs)
	}
	number := func(n int) string {
		if n <= 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	segmentID, occurrence := e.SegmentID, e.Occurrence
	if !validSegmentID(segmentID) && !standardSegmentIDs[strings.ToUpper(segmentID)] {
		segmentID = ""
	}
	switch {
	case segmentID == "" && e.Segment > 0:
		// A segment without a readable id is located by its position in
		// the message.
		occurrence = e.Segment
	case segmentID == "":
		// A fault of the whole input, such as its size, is located at
		// the header that identifies the message.
		segmentID, occurrence = "MSH", 1
	}
	location := strings.Join([]string{
		segmentID, number(occurrence), number(e.Field),
		number(e.Repetition), number(e.Component), number(e.Subcomponent),
	}, cs)
	location = strings.TrimRight(location, cs)
	code := e.HL7Code()
	errorCode := strings.Join([]string{code, hl7CodeText[code], hl7ErrorCodeTable}, cs)
	return strings.TrimRight(strings.Join([]string{"ERR", "", location, errorCode, severity, "", "", diagnostic}, fs), fs)
}
