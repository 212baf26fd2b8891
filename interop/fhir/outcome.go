package fhir

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/nexus-health-360/nexus/emr"
)

// operationOutcome is the FHIR OperationOutcome resource as this package
// writes it.
type operationOutcome struct {
	ResourceType string         `json:"resourceType"`
	Issue        []outcomeIssue `json:"issue"`
}

type outcomeIssue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

func newOutcome(issues ...outcomeIssue) *operationOutcome {
	return &operationOutcome{ResourceType: "OperationOutcome", Issue: issues}
}

// httpError is a failure found by this package before or around the
// service call, with the status and FHIR IssueType code it gets, and the
// FHIRPath of the element at fault when there is one.
type httpError struct {
	status     int
	code       string
	message    string
	expression string
}

func (e *httpError) Error() string { return e.message }

func requestError(status int, code, message string) error {
	return &httpError{status: status, code: code, message: message}
}

// malformedBody returns the 400 for a request body that is not one JSON
// object. FHIR R4 specifies 400 for a resource that cannot be parsed, and
// 422 for one that parses but breaks a profile or business rule.
func malformedBody(message string) error {
	return requestError(http.StatusBadRequest, "structure", message)
}

// searchError marks an error of search or history parameters. FHIR returns
// 400 for every invalid search, where emr.StatusFor gives 422 for invalid
// values.
type searchError struct{ err error }

func (e searchError) Error() string { return e.err.Error() }
func (e searchError) Unwrap() error { return e.err }

// statusOf maps err to its HTTP status.
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	status := emr.StatusFor(err)
	var se searchError
	if errors.As(err, &se) && status == http.StatusUnprocessableEntity {
		return http.StatusBadRequest
	}
	return status
}

// issueCode returns the FHIR IssueType code for an error that carries no
// issues of its own.
func issueCode(err error) string {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.code
	case errors.As(err, &mbe), errors.Is(err, emr.ErrTooLarge):
		return "too-costly"
	case errors.Is(err, emr.ErrGone):
		return "deleted"
	case errors.Is(err, emr.ErrNotFound):
		return "not-found"
	case errors.Is(err, emr.ErrForbidden):
		return "forbidden"
	case errors.Is(err, emr.ErrPossibleDuplicate):
		return "duplicate"
	case errors.Is(err, emr.ErrVersionMismatch), errors.Is(err, emr.ErrConflict):
		return "conflict"
	case errors.Is(err, emr.ErrPreconditionFailed):
		return "processing"
	case errors.Is(err, emr.ErrUnsupported):
		return "not-supported"
	case errors.Is(err, emr.ErrInvalid):
		return "invalid"
	}
	return "exception"
}

// outcomeOf builds the OperationOutcome for a failed request or bundle
// entry. entry is the index of the failing bundle entry, or -1. Error
// messages become diagnostics, because emr.Issue messages hold no input
// values and emr's other errors name operations, types and ids. A 500 only
// gets the request id.
func outcomeOf(err error, entry int, requestID string) *operationOutcome {
	if statusOf(err) >= http.StatusInternalServerError {
		return internalOutcome(requestID)
	}
	var me *http.MaxBytesError
	if errors.As(err, &me) {
		return newOutcome(outcomeIssue{Severity: "error", Code: "too-costly",
			Diagnostics: fmt.Sprintf("the request body is larger than the limit of %d bytes", me.Limit)})
	}
	var ee *emr.EntryError
	if errors.As(err, &ee) {
		entry, err = ee.Index, ee.Err
	}
	var ve *emr.ValidationError
	if errors.As(err, &ve) && len(ve.Issues) > 0 {
		issues := make([]outcomeIssue, len(ve.Issues))
		for i, is := range ve.Issues {
			issue := outcomeIssue{Severity: "error", Code: is.Code, Diagnostics: is.Message}
			if issue.Code == "" {
				issue.Code = "invalid"
			}
			path := is.Path
			if entry >= 0 {
				path = entryPath(entry, path)
				issue.Diagnostics = entryName(entry) + ": " + issue.Diagnostics
			}
			if path != "" {
				issue.Expression = []string{path}
			}
			issues[i] = issue
		}
		return newOutcome(issues...)
	}
	issue := outcomeIssue{Severity: "error", Code: issueCode(err), Diagnostics: err.Error()}
	var he *httpError
	if errors.As(err, &he) && he.expression != "" {
		issue.Expression = []string{he.expression}
	}
	if entry >= 0 {
		if !strings.HasPrefix(issue.Diagnostics, entryName(entry)) {
			issue.Diagnostics = entryName(entry) + ": " + issue.Diagnostics
		}
		issue.Expression = []string{entryName(entry)}
	}
	return newOutcome(issue)
}

func internalOutcome(requestID string) *operationOutcome {
	return newOutcome(outcomeIssue{Severity: "error", Code: "exception",
		Diagnostics: "internal server error; the server log has the details under request id " + requestID})
}

func entryName(i int) string { return fmt.Sprintf("Bundle.entry[%d]", i) }

// entryPath places an issue path of a resource inside bundle entry i:
// "Patient.birthDate" becomes "Bundle.entry[i].resource.birthDate".
func entryPath(i int, path string) string {
	prefix := entryName(i)
	if path == "" {
		return prefix
	}
	if strings.HasPrefix(path, "Bundle.entry[") {
		return path
	}
	if emr.IsResourceType(path) {
		return prefix + ".resource"
	}
	if first, rest, ok := strings.Cut(path, "."); ok && emr.IsResourceType(first) {
		return prefix + ".resource." + rest
	}
	return prefix + "." + path
}

// fail writes the OperationOutcome for err and logs it. An internal error
// is logged with its message, so the operator can find the cause by the
// request id. Other failures are logged with their status and code only.
//
// NOTE: internal errors come from storage, and emr wraps them with the
// operation and resource ids, not resource content. A storage driver that
// quotes values in its errors would put them in this log line.
func (h *handler) fail(x *exchange, err error) {
	if x.r.Context().Err() != nil && errors.Is(err, x.r.Context().Err()) {
		// The client went away, so nothing failed here and no response
		// would be read.
		h.log.DebugContext(x.ctx, "fhir request abandoned by the client", "request_id", x.requestID,
			"route", x.route.pattern)
		return
	}
	status := statusOf(err)
	if status >= http.StatusInternalServerError {
		h.log.ErrorContext(x.ctx, "fhir request failed", "request_id", x.requestID,
			"route", x.route.pattern, "status", status, "error", err)
	} else {
		h.log.DebugContext(x.ctx, "fhir request rejected", "request_id", x.requestID,
			"route", x.route.pattern, "status", status, "code", issueCode(err))
	}
	h.writeOutcome(x, status, outcomeOf(err, -1, x.requestID))
}
