package v2fhir

import (
	"errors"
	"fmt"

	"github.com/nexus-health-360/nexus/emr"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/internal/errlist"
)

// HL7 table 0357 (message error condition) codes that Convert and Apply
// report.
const (
	CodeSegmentSequence    = "100"
	CodeRequiredField      = "101"
	CodeDataType           = "102"
	CodeTableValue         = "103"
	CodeUnsupportedMessage = "200"
	CodeUnsupportedEvent   = "201"
	CodeUnknownKey         = "204"
	CodeDuplicateKey       = "205"
	CodeInternal           = "207"
)

// Error is a problem with one message, located by segment and field. Message
// never contains a value from the HL7 message, so an Error is safe to log
// and to return in an ACK.
type Error struct {
	// Code is the HL7 table 0357 code for ERR-3.
	Code string
	// SegmentID and Occurrence name the segment ("OBX", 2 for the second
	// OBX). Field, Repetition and Component are 1-based and 0 when the
	// problem concerns the whole segment or field.
	SegmentID  string
	Occurrence int
	Field      int
	Repetition int
	Component  int
	Message    string
	// cause is the error of the clinical record that Apply turned into
	// this one, nil for errors of Convert.
	cause error
}

// Unwrap returns the error of the clinical record behind an error of
// Apply, so that errors.Is(err, emr.ErrPreconditionFailed) holds.
func (e *Error) Unwrap() error { return e.cause }

// Location formats the position as an HL7 path, such as "OBX(2)-14".
func (e *Error) Location() string {
	p := hl7v2.Path{
		SegmentID: e.SegmentID, Occurrence: e.Occurrence, Field: e.Field,
		Repetition: e.Repetition, Component: e.Component,
	}
	return p.String()
}

// Error formats the error as "v2fhir: LOCATION: MESSAGE (HL7 error CODE)".
func (e *Error) Error() string {
	return fmt.Sprintf("v2fhir: %s: %s (HL7 error %s)", e.Location(), e.Message, e.Code)
}

// ParseError returns the error in the form hl7v2.BuildACK takes. The ACK
// derives ERR-3 from the Kind, so codes without a matching Kind (200 and
// 201) are reported there as 207.
func (e *Error) ParseError() *hl7v2.ParseError {
	kind := hl7v2.KindOther
	switch e.Code {
	case CodeSegmentSequence:
		kind = hl7v2.KindSegmentSequence
	case CodeRequiredField:
		kind = hl7v2.KindRequiredField
	case CodeDataType:
		kind = hl7v2.KindDataType
	case CodeTableValue:
		kind = hl7v2.KindTableValue
	case CodeUnknownKey:
		kind = hl7v2.KindUnknownKey
	case CodeDuplicateKey:
		kind = hl7v2.KindDuplicateKey
	}
	occurrence := e.Occurrence
	if occurrence == 0 && e.SegmentID != "" {
		occurrence = 1
	}
	return &hl7v2.ParseError{
		Kind: kind, SegmentID: e.SegmentID, Occurrence: occurrence, Field: e.Field,
		Repetition: e.Repetition, Component: e.Component, Offset: -1, Message: e.Message,
	}
}

// ErrorList is every located problem Convert found in one message.
type ErrorList []*Error

// Error joins the first errors into one line and counts the rest.
func (l ErrorList) Error() string { return errlist.Join(l) }

// Unwrap returns the entries, so errors.As finds an *Error.
func (l ErrorList) Unwrap() []error { return errlist.Unwrap(l) }

// ParseErrors returns the entries in the form hl7v2.BuildACK takes.
func (l ErrorList) ParseErrors() []*hl7v2.ParseError {
	out := make([]*hl7v2.ParseError, len(l))
	for i, e := range l {
		out[i] = e.ParseError()
	}
	return out
}

// source is the segment and field that a plan entry is mapped from, so
// that Apply can locate an error of the clinical record.
type source struct {
	segment    string
	occurrence int
	field      int
	repetition int
}

// contentError returns err as a located *Error when the clinical record
// rejected the message's content, which a resend would not change. It
// returns nil for an internal failure, such as a database error or a
// concurrent transaction, that a resend may get past. subject names the
// resource or step in the ERR text, which carries no value of the message.
func contentError(err error, at source, subject string) *Error {
	var located *Error
	if errors.As(err, &located) {
		return located
	}
	code := ""
	message := ""
	switch {
	case errors.Is(err, emr.ErrTransient), errors.Is(err, emr.ErrVersionMismatch):
		return nil
	case errors.Is(err, emr.ErrNotFound), errors.Is(err, emr.ErrGone):
		code, message = CodeUnknownKey, subject+": no stored resource matches"
	case errors.Is(err, emr.ErrPreconditionFailed):
		code, message = CodeDuplicateKey, subject+": the identifiers match more than one stored resource"
	case errors.Is(err, emr.ErrIdentifierInUse), errors.Is(err, emr.ErrPossibleDuplicate):
		code, message = CodeDuplicateKey, subject+": an identifier is already held by another resource"
	case errors.Is(err, emr.ErrInvalid):
		code, message = CodeInternal, subject+": the clinical record rejected the mapped resource as invalid"
	case errors.Is(err, emr.ErrConflict):
		code, message = CodeInternal, subject+": the clinical record rejected the mapped resource as conflicting"
	case errors.Is(err, emr.ErrForbidden):
		code, message = CodeInternal, subject+": the clinical record does not allow the write"
	case errors.Is(err, emr.ErrTooLarge), errors.Is(err, emr.ErrUnsupported):
		code, message = CodeInternal, subject+": the clinical record cannot store the mapped resource"
	default:
		return nil
	}
	return &Error{Code: code, SegmentID: at.segment, Occurrence: at.occurrence, Field: at.field,
		Repetition: at.repetition, Message: message, cause: err}
}
