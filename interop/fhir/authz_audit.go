package fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/security"
)

// AccessRecorder records every FHIR interaction for the audit log, so
// that an access log query returns who looked at a patient's record. The
// audit log implements it.
type AccessRecorder interface {
	RecordAccess(ctx context.Context, e AccessEvent) error
}

// AccessRecorderFunc adapts a function to AccessRecorder.
type AccessRecorderFunc func(ctx context.Context, e AccessEvent) error

// RecordAccess calls f.
func (f AccessRecorderFunc) RecordAccess(ctx context.Context, e AccessEvent) error { return f(ctx, e) }

// AccessEvent is one FHIR interaction as the audit log stores it.
type AccessEvent struct {
	Time      time.Time
	RequestID string
	// Subject, ClientID and Kind identify the principal; all are empty
	// when the request was not authenticated.
	Subject  string
	ClientID string
	Kind     security.Kind
	// Address is the client's network address (the request's
	// RemoteAddr).
	Address string
	// Action is the interaction: read, vread, history, search, create,
	// update, patch, delete, batch, validate, everything, export,
	// export-status or export-file.
	Action       string
	ResourceType string
	ResourceID   string
	// Patients are the ids of the patients whose records the response
	// disclosed or the request wrote: the Patient resources and the
	// Patient references found in the request path and the response body.
	Patients []string
	// Status is the HTTP status of the response.
	Status int
	// BreakGlass lists the ids of the break-the-glass grants the request
	// used: those whose patient is in Patients.
	BreakGlass []string
	// BreakGlassGrants are the grants that widened the request's access,
	// used or not. recordAccess keeps only the used ones, so a recorder
	// sees the grants of BreakGlass with their patients.
	BreakGlassGrants []security.Grant
}

// actionOf names the interaction of a route for the audit log.
func actionOf(pattern, method string) string {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	switch pattern {
	case shapeBase.pattern:
		return "batch"
	case shapeMetadata.pattern:
		return "capabilities"
	case shapeSystemHistory.pattern, shapeTypeHistory.pattern, shapeInstanceHistory.pattern:
		return "history"
	case shapeVersion.pattern:
		return "vread"
	case shapeTypeSearch.pattern, "/Appointment/$find":
		return "search"
	case shapeTypeValidate.pattern, shapeInstanceValidate.pattern:
		return "validate"
	case shapeEverything.pattern:
		return "everything"
	case shapeSystemExport.pattern, shapePatientExport.pattern, shapeGroupExport.pattern:
		return "export"
	case shapeExportStatus.pattern:
		return "export-status"
	case shapeExportFile.pattern:
		return "export-file"
	case shapeType.pattern:
		return map[string]string{http.MethodGet: "search", http.MethodPost: "create",
			http.MethodPut: "update", http.MethodDelete: "delete"}[method]
	case shapeInstance.pattern:
		return map[string]string{http.MethodGet: "read", http.MethodPut: "update",
			http.MethodPatch: "patch", http.MethodDelete: "delete"}[method]
	}
	return "other"
}

func (h *handler) newAccessEvent(x *exchange) AccessEvent {
	e := AccessEvent{Time: h.cfg.Clock().UTC(), RequestID: x.requestID, Action: actionOf(x.route.pattern, x.r.Method),
		ResourceType: x.path.typ, ResourceID: x.path.id, Address: x.r.RemoteAddr}
	if p := security.PrincipalFrom(x.r.Context()); p != nil {
		e.Subject, e.ClientID, e.Kind = p.Subject, p.ClientID, p.Kind
	}
	if e.ResourceType == "Patient" && e.ResourceID != "" {
		e.Patients = []string{e.ResourceID}
	}
	return e
}

// maxScannedBody bounds the response bytes searched for patient
// references.
const maxScannedBody = 16 << 20

// recordAccess completes e with the patients of the response in buf, when
// there is one, and records it. A failure is logged and returned, so the
// caller withholds the response.
func (h *handler) recordAccess(x *exchange, e AccessEvent, buf *bufferedResponse) error {
	if h.authz.recorder == nil {
		return nil
	}
	if buf != nil && buf.status < http.StatusBadRequest && buf.body.Len() <= maxScannedBody {
		found := patientsIn(buf.body.Bytes())
		if e.Action == "delete" {
			found = append(found, h.deletedPatients(x, buf)...)
		}
		for _, id := range found {
			if !slices.Contains(e.Patients, id) {
				e.Patients = append(e.Patients, id)
			}
		}
	}
	e.BreakGlassGrants = usedGrants(e)
	e.BreakGlass = nil
	for _, g := range e.BreakGlassGrants {
		e.BreakGlass = append(e.BreakGlass, g.ID)
	}
	if err := h.authz.recorder.RecordAccess(x.ctx, e); err != nil {
		h.log.ErrorContext(x.ctx, "recording a FHIR access in the audit log failed", "request_id", x.requestID,
			"route", x.route.pattern, "error", err)
		return fmt.Errorf("record access: %w", err)
	}
	return nil
}

// usedGrants returns the grants of e whose patient e disclosed or wrote.
// An export keeps every grant, because its files are written later and
// their patients are not known here.
func usedGrants(e AccessEvent) []security.Grant {
	switch e.Action {
	case "export", "export-status", "export-file":
		return e.BreakGlassGrants
	}
	return slices.DeleteFunc(slices.Clone(e.BreakGlassGrants), func(g security.Grant) bool {
		return !slices.Contains(e.Patients, g.Patient)
	})
}

// deletedPatients returns the patients referenced by the version that a
// successful delete by id removed, which its response does not show. The
// ETag of the response names the deletion version, so the removed content
// is the version before it.
// NOTE: a conditional delete and a delete in a batch or transaction are
// recorded here without patients. The audit Follower's entry of the
// deletion lists them, from the clinical record's outbox event.
func (h *handler) deletedPatients(x *exchange, buf *bufferedResponse) []string {
	if x.path.typ == "" || x.path.id == "" {
		return nil
	}
	version, err := emr.ParseETag(buf.header.Get("ETag"))
	if err != nil || version < 2 {
		return nil
	}
	res, err := h.svc.VRead(x.ctx, x.path.typ, x.path.id, version-1)
	if err != nil {
		h.log.WarnContext(x.ctx, "reading the deleted version for the audit log failed", "request_id", x.requestID,
			"type", x.path.typ, "version", version-1, "error", err)
		return nil
	}
	return patientsIn(res.Body)
}

var patientReference = regexp.MustCompile(`(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$`)

// patientsIn returns the ids of the Patient resources and of the Patient
// references in a JSON response body, sorted.
func patientsIn(body []byte) []string {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil {
		return nil
	}
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if t["resourceType"] == "Patient" {
				if id, ok := t["id"].(string); ok {
					seen[id] = true
				}
			}
			if ref, ok := t["reference"].(string); ok {
				if m := patientReference.FindStringSubmatch(ref); m != nil {
					seen[m[1]] = true
				}
			}
			for _, child := range t {
				walk(child)
			}
		case []any:
			for _, child := range t {
				walk(child)
			}
		}
	}
	walk(doc)
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// bufferedResponse holds a response until its access is recorded.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func newBufferedResponse(w http.ResponseWriter) *bufferedResponse {
	return &bufferedResponse{header: w.Header().Clone(), status: http.StatusOK}
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if !b.wrote {
		b.status, b.wrote = status, true
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}

// flushTo sends the held response to w.
func (b *bufferedResponse) flushTo(w http.ResponseWriter) {
	dst := w.Header()
	for k := range dst {
		if _, ok := b.header[k]; !ok {
			delete(dst, k)
		}
	}
	for k, v := range b.header {
		dst[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}
