package hl7v2

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nexus-health-360/nexus/interop/hl7v2/internal/errlist"
)

// Kind classifies a ParseError. Tests and callers match on the kind, never
// on the message text.
type Kind int

// The kinds of problems the parser, the path API and the writer report.
const (
	KindOther Kind = iota
	KindMissingMSH
	KindSegmentID
	KindSegmentTerminator
	KindEmptySegment
	KindByteOrderMark
	KindEncodingCharacters
	KindEscape
	KindCharset
	KindVersion
	KindVersionFeature
	KindRequiredField
	KindDataType
	KindLimit
	KindMultipleMessages
	KindSegmentSequence
	// KindUnknownKey: a key (such as an identifier) that names no stored
	// record, table 0357 code 204.
	KindUnknownKey
	// KindDuplicateKey: a key that names more than one stored record or
	// one already in use, table 0357 code 205.
	KindDuplicateKey
	// KindTableValue: a coded value that is not in the HL7 table of its
	// field, table 0357 code 103.
	KindTableValue
	// KindProcessingID: an MSH-11 processing ID (production, training,
	// debugging) that the receiver does not accept, table 0357 code 202.
	KindProcessingID
)

var kindNames = map[Kind]string{
	KindOther:              "other",
	KindMissingMSH:         "missing MSH",
	KindSegmentID:          "invalid segment id",
	KindSegmentTerminator:  "segment terminator",
	KindEmptySegment:       "empty segment",
	KindByteOrderMark:      "byte order mark",
	KindEncodingCharacters: "encoding characters",
	KindEscape:             "escape sequence",
	KindCharset:            "character set",
	KindVersion:            "version",
	KindVersionFeature:     "version feature",
	KindRequiredField:      "required field",
	KindDataType:           "data type",
	KindLimit:              "limit",
	KindMultipleMessages:   "multiple messages",
	KindSegmentSequence:    "segment sequence",
	KindUnknownKey:         "unknown key",
	KindDuplicateKey:       "duplicate key",
	KindTableValue:         "table value",
	KindProcessingID:       "processing id",
}

// String returns the kind's name.
func (k Kind) String() string {
	if name, ok := kindNames[k]; ok {
		return name
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// HL7Code returns the HL7 table 0357 (message error condition) code that an
// ACK reports for this kind.
func (k Kind) HL7Code() string {
	switch k {
	case KindMissingMSH, KindSegmentID, KindSegmentSequence, KindMultipleMessages:
		return "100"
	case KindRequiredField:
		return "101"
	case KindVersion, KindVersionFeature:
		return "203"
	case KindUnknownKey:
		return "204"
	case KindDuplicateKey:
		return "205"
	case KindTableValue:
		return "103"
	case KindProcessingID:
		return "202"
	case KindLimit, KindOther:
		return "207"
	default:
		return "102"
	}
}

// hl7CodeText is the description that table 0357 gives to each code used
// by HL7Code.
var hl7CodeText = map[string]string{
	"100": "Segment sequence error",
	"101": "Required field missing",
	"102": "Data type error",
	"103": "Table value not found",
	"104": "Value too long",
	"202": "Unsupported processing id",
	"203": "Unsupported version id",
	"204": "Unknown key identifier",
	"205": "Duplicate key identifier",
	"207": "Application internal error",
}

// Severity records whether a ParseError rejects the message (SeverityError)
// or was accepted in lenient mode and only recorded (SeverityWarning).
type Severity int

// The severities, with the letters of HL7 table 0516 (ERR-4).
const (
	SeverityError Severity = iota
	SeverityWarning
)

// String returns the HL7 table 0516 code: "E" or "W".
func (s Severity) String() string {
	if s == SeverityWarning {
		return "W"
	}
	return "E"
}

// ParseError is one problem found in a message, located by segment, field,
// repetition, component and byte offset. Message never contains a value
// from the message, so errors are safe to log and to send back in an ACK.
type ParseError struct {
	Kind     Kind
	Severity Severity
	// SegmentID is the segment's id as sent, or "" when the segment is
	// blank, its id is neither valid nor a standard id in the wrong case,
	// or the problem concerns the whole input.
	SegmentID string
	// Segment is the 1-based position of the segment in its message,
	// counting every segment from MSH as 1, blank ones included, and 0 when
	// unknown or outside a message. Occurrence is the 1-based count of
	// segments with the same id up to this one (the second OBX has
	// Occurrence 2), as ERR-2 reports it.
	Segment    int
	Occurrence int
	// Field, Repetition, Component and Subcomponent are 1-based, 0 when the
	// problem is not inside that level.
	Field        int
	Repetition   int
	Component    int
	Subcomponent int
	// Offset is the byte offset in the input given to the parser, -1 when
	// unknown.
	Offset int
	// Limit names the Limits field that was exceeded, for KindLimit.
	Limit string
	// Message describes the problem without any value from the message.
	Message string
}

// Location formats the position as an HL7 path, such as "PID(1)-3[2].4".
func (e *ParseError) Location() string {
	var b strings.Builder
	if e.SegmentID != "" {
		b.WriteString(e.SegmentID)
		if e.Occurrence > 0 {
			fmt.Fprintf(&b, "(%d)", e.Occurrence)
		}
	} else if e.Segment > 0 {
		fmt.Fprintf(&b, "segment %d", e.Segment)
	}
	if e.Field > 0 {
		fmt.Fprintf(&b, "-%d", e.Field)
		if e.Repetition > 0 {
			fmt.Fprintf(&b, "[%d]", e.Repetition)
		}
		if e.Component > 0 {
			fmt.Fprintf(&b, ".%d", e.Component)
			if e.Subcomponent > 0 {
				fmt.Fprintf(&b, ".%d", e.Subcomponent)
			}
		}
	}
	return b.String()
}

// Error formats the error as "hl7v2: LOCATION at byte N: MESSAGE".
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("hl7v2: ")
	if e.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	if loc := e.Location(); loc != "" {
		b.WriteString(loc)
		b.WriteString(" ")
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, "at byte %d", e.Offset)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// ErrorList is the set of errors that Parse collected. It is returned as an
// error only when it holds at least one entry of SeverityError.
type ErrorList []*ParseError

// Error joins the first errors into one line and counts the rest.
func (l ErrorList) Error() string { return errlist.Join(l) }

// Unwrap returns the entries, so errors.As finds a *ParseError.
func (l ErrorList) Unwrap() []error { return errlist.Unwrap(l) }

// HasKind reports whether any entry has kind k.
func (l ErrorList) HasKind(k Kind) bool {
	for _, e := range l {
		if e.Kind == k {
			return true
		}
	}
	return false
}

// Errors returns the entries of err when it is an ErrorList or a
// *ParseError, and nil otherwise.
func Errors(err error) []*ParseError {
	var list ErrorList
	if errors.As(err, &list) {
		return list
	}
	var one *ParseError
	if errors.As(err, &one) {
		return []*ParseError{one}
	}
	return nil
}

// ErrNotFound is returned by the path API when the segment a path names is
// not in the message.
var ErrNotFound = errors.New("hl7v2: segment not found")

// ErrInvalidPath is wrapped by the errors of the path API for a path that
// does not follow the path grammar.
var ErrInvalidPath = errors.New("hl7v2: invalid path")

// ErrNoTimeZone is returned when a timestamp with a time of day but no
// offset must be completed and no time zone is known.
var ErrNoTimeZone = errors.New("hl7v2: timestamp has no offset and no default time zone is configured")
