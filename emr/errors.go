package emr

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error the package returns wraps one of them, so
// callers test the kind with errors.Is and never parse messages.
var (
	// ErrNotFound: no resource with that type and id (or version) exists.
	ErrNotFound = errors.New("not found")
	// ErrGone: the resource exists but its current version is a deletion.
	ErrGone = errors.New("deleted")
	// ErrInvalid: the input is not valid FHIR R4 or breaks a rule of the
	// operation. Details are in a *ValidationError.
	ErrInvalid = errors.New("invalid")
	// ErrConflict: the write clashes with the stored state, such as a
	// patient identifier already held by another patient.
	ErrConflict = errors.New("conflict")
	// ErrVersionMismatch: an If-Match version is not the current one.
	ErrVersionMismatch = errors.New("version mismatch")
	// ErrPossibleDuplicate: registration found a likely existing record of
	// the same person and needs an override reason. Details are in a
	// *DuplicateError.
	ErrPossibleDuplicate = errors.New("possible duplicate patient")
	// ErrUnsupported: the request uses a feature the engine does not have.
	ErrUnsupported = errors.New("unsupported")
	// ErrForbidden: the caller's Access does not allow the write, such as
	// new content in the compartment of a patient it may not see.
	ErrForbidden = errors.New("forbidden")
)

// Issue is one problem found in input. Path is a FHIRPath-like element path
// such as "Patient.birthDate" or "Bundle.entry[3].resource.status", and
// Message describes the fault. Neither contains a value taken from the
// input, so issues are safe to log.
type Issue struct {
	Path    string
	Message string
	// Code is a FHIR IssueType code: "structure", "required", "value",
	// "invalid", "not-supported", "conflict", "duplicate", "not-found".
	Code string
}

// ValidationError lists the issues that made an input invalid. It wraps
// ErrInvalid.
type ValidationError struct {
	Issues []Issue
	// Malformed marks a request that cannot be processed as sent (not
	// JSON, not one object, not URL encoding, a transaction whose entries
	// overlap), as opposed to parsed content that breaks a rule. FHIR
	// returns 400 for the first and 422 for the second.
	Malformed bool
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Issues))
	for _, is := range e.Issues {
		if is.Path == "" {
			parts = append(parts, is.Message)
			continue
		}
		parts = append(parts, is.Path+": "+is.Message)
	}
	return "invalid resource: " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(path, code, format string, args ...any) error {
	return &ValidationError{Issues: []Issue{{Path: path, Code: code, Message: fmt.Sprintf(format, args...)}}}
}

// badSearch reports a search that cannot run as sent, which FHIR rejects
// with 400.
func badSearch(path, code, format string, args ...any) error {
	return &ValidationError{Malformed: true, Issues: []Issue{{Path: path, Code: code, Message: fmt.Sprintf(format, args...)}}}
}

func malformed(path, format string, args ...any) error {
	return &ValidationError{Malformed: true, Issues: []Issue{{Path: path, Code: "structure", Message: fmt.Sprintf(format, args...)}}}
}

// prefixIssues puts prefix before each issue path, as when a resource is
// validated inside a bundle entry.
func prefixIssues(err error, prefix string) error {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := &ValidationError{Issues: make([]Issue, len(ve.Issues))}
	for i, is := range ve.Issues {
		if is.Path == "" {
			is.Path = prefix
		} else {
			is.Path = prefix + "." + is.Path
		}
		out.Issues[i] = is
	}
	return out
}

// ErrTooLarge: the request exceeds a documented size limit, such as the
// maximum number of bundle entries.
var ErrTooLarge = errors.New("too large")

// ErrPreconditionFailed: a conditional request matched more than one
// resource, or a conditional reference matched none.
var ErrPreconditionFailed = errors.New("precondition failed")

// ErrTransient: a concurrent transaction made this one fail, as a
// PostgreSQL deadlock or serialisation failure does. The service retries
// such transactions; when the retries run out the error reaches the caller
// and wraps ErrConflict.
var ErrTransient = fmt.Errorf("concurrent transaction: %w", ErrConflict)

// ErrIdentifierInUse: a patient identifier (system and value) is already
// held by another patient. It wraps ErrConflict.
var ErrIdentifierInUse = fmt.Errorf("identifier already in use: %w", ErrConflict)
