package v2fhir

import (
	"fmt"
	"strings"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
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
}

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
// derives ERR-3 from the Kind, so codes without a matching Kind (200, 201,
// 204) are reported there as 207.
func (e *Error) ParseError() *hl7v2.ParseError {
	kind := hl7v2.KindOther
	switch e.Code {
	case CodeSegmentSequence:
		kind = hl7v2.KindSegmentSequence
	case CodeRequiredField:
		kind = hl7v2.KindRequiredField
	case CodeDataType, CodeTableValue:
		kind = hl7v2.KindDataType
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
func (l ErrorList) Error() string {
	const shown = 5
	parts := make([]string, 0, shown+1)
	for i, e := range l {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(l)-shown))
			break
		}
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns the entries, so errors.As finds an *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// ParseErrors returns the entries in the form hl7v2.BuildACK takes.
func (l ErrorList) ParseErrors() []*hl7v2.ParseError {
	out := make([]*hl7v2.ParseError, len(l))
	for i, e := range l {
		out[i] = e.ParseError()
	}
	return out
}
