package fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/security"
)

// Authorizer decides whether the principal of a request may perform an
// interaction, and on which patient compartments. *security.Service
// implements it. The handler reads the principal from the request context
// (security.PrincipalFrom), where security's Middleware puts it.
type Authorizer interface {
	Decide(ctx context.Context, p *security.Principal, req security.Request) (security.Decision, error)
}

// authz is the handler's authorization and audit state.
type authz struct {
	authorizer Authorizer
	recorder   AccessRecorder
	// owners maps export job ids to the principal that started them, so
	// only that principal reads the status and files.
	mu     sync.Mutex
	owners map[string]string
}

func newAuthz(cfg Config) *authz {
	return &authz{authorizer: cfg.Authorizer, recorder: cfg.AccessRecorder, owners: map[string]string{}}
}

// principalKey identifies a principal for export job ownership.
func principalKey(p *security.Principal) string {
	if p == nil {
		return ""
	}
	return string(p.Kind) + ":" + p.Subject + ":" + p.ClientID
}

// serveRoute runs the matched route under the caller's access decision
// and records the interaction. Without an Authorizer the request is
// unrestricted, and without an AccessRecorder nothing is recorded.
func (h *handler) serveRoute(x *exchange) {
	if h.authz.authorizer == nil && h.authz.recorder == nil {
		x.route.serve(h, x)
		return
	}
	event := h.newAccessEvent(x)
	if h.authz.authorizer != nil {
		grants, err := h.authorize(x)
		event.BreakGlassGrants = grants
		if err != nil {
			h.fail(x, err)
			event.Status = x.w.statusCode()
			h.recordAccess(x, event, nil)
			return
		}
	}

	if x.route.pattern == shapeExportFile.pattern {
		// Export files stream from disk and may be large, so the download
		// is recorded before it starts rather than buffered.
		event.Status = http.StatusOK
		if err := h.recordAccess(x, event, nil); err != nil {
			h.fail(x, err)
			return
		}
		x.route.serve(h, x)
		return
	}

	buf := newBufferedResponse(x.w.ResponseWriter)
	real := x.w.ResponseWriter
	x.w.ResponseWriter = buf
	x.route.serve(h, x)
	x.w.ResponseWriter = real
	event.Status = buf.status
	h.trackExportOwner(x, buf)
	if err := h.recordAccess(x, event, buf); err != nil {
		// Nothing is disclosed that was not recorded.
		x.w.wroteHeader = false
		h.fail(x, err)
		return
	}
	h.limitWriteResponse(x, buf)
	buf.flushTo(real)
}

// authorize decides the request and puts the resulting emr.Access in
// x.ctx. It returns the break-the-glass grants that widened the access.
func (h *handler) authorize(x *exchange) ([]security.Grant, error) {
	p := security.PrincipalFrom(x.r.Context())
	if x.route.pattern == shapeMetadata.pattern || x.route.pattern == "unmatched" {
		return nil, nil
	}
	if p == nil {
		return nil, requestError(http.StatusUnauthorized, "login", "an access token is required")
	}
	switch x.route.pattern {
	case shapeExportStatus.pattern, shapeExportFile.pattern:
		return nil, h.checkExportOwner(x, p)
	}

	requests, instance, err := h.requestsOf(x)
	if err != nil {
		return nil, err
	}
	// A bundle repeats the interaction of each entry of the same kind.
	// Merging equal decisions changes nothing, so each is decided once.
	requests = uniqueRequests(requests)
	decisions := make([]security.Decision, 0, len(requests))
	for _, req := range requests {
		d, err := h.authz.authorizer.Decide(x.ctx, p, req)
		if errors.Is(err, security.ErrForbidden) {
			return nil, h.denied(x, instance, req)
		}
		if err != nil {
			return nil, err
		}
		decisions = append(decisions, d)
	}

	access, grants := accessOf(decisions, requests)
	if h.ownedByDomain(x.path.typ) && !access.AllPatients {
		// NOTE: the scheduling and billing backends do not filter by
		// patient compartment, so only callers who reach every patient
		// use them.
		return nil, h.denied(x, instance, security.Request{Type: x.path.typ, Interaction: requests[0].Interaction})
	}

	x.ctx = emr.ContextWithAccess(x.ctx, access)
	x.ctx = emr.ContextWithWriteCheck(x.ctx, h.writeCheck(p))
	if err := h.limitWrites(x, p, requests, access); err != nil {
		return nil, err
	}
	return grants, nil
}

// uniqueRequests returns requests without repeats, in the order of their
// first appearance.
func uniqueRequests(requests []security.Request) []security.Request {
	out := make([]security.Request, 0, len(requests))
	for _, req := range requests {
		if !slices.Contains(out, req) {
			out = append(out, req)
		}
	}
	return out
}

// ownedByDomain reports whether typ is served by the scheduling or
// billing backend rather than the clinical record.
func (h *handler) ownedByDomain(typ string) bool {
	return (h.cfg.Scheduling != nil && isSchedulingType(typ)) || (h.cfg.Billing != nil && isBillingType(typ))
}

// denied returns the error for a rejected interaction. On a single
// resource it is the not-found error of a missing one, so a caller cannot
// tell a resource it may not see from one that does not exist.
func (h *handler) denied(x *exchange, instance bool, req security.Request) error {
	if instance && x.path.typ != "" && x.path.id != "" {
		return fmt.Errorf("read %s/%s: %w", x.path.typ, x.path.id, emr.ErrNotFound)
	}
	return requestError(http.StatusForbidden, "forbidden",
		"the access token does not allow "+req.Interaction.String()+" on "+typeLabel(req.Type))
}

func typeLabel(typ string) string {
	if typ == "*" {
		return "every resource type"
	}
	return typ
}

// accessOf merges the decisions of one request into the narrowest
// emr.Access: every decision must reach all patients for AllPatients, the
// patients are those all decisions allow, and the types those all allow
// (see readableTypes).
func accessOf(decisions []security.Decision, requests []security.Request) (*emr.Access, []security.Grant) {
	a := &emr.Access{AllPatients: true}
	var patients []string
	var types []string
	typesSet := false
	var grants []security.Grant
	for i, d := range decisions {
		if !d.AllPatients {
			if a.AllPatients {
				patients = slices.Clone(d.Patients)
			} else {
				patients = slices.DeleteFunc(patients, func(id string) bool { return !slices.Contains(d.Patients, id) })
			}
			a.AllPatients = false
		}
		if allowed := readableTypes(d, requests[i]); allowed != nil {
			if !typesSet {
				types, typesSet = allowed, true
			} else {
				types = slices.DeleteFunc(types, func(t string) bool { return !slices.Contains(allowed, t) })
			}
		}
		for _, g := range d.BreakGlass {
			if !slices.ContainsFunc(grants, func(have security.Grant) bool { return have.ID == g.ID }) {
				grants = append(grants, g)
			}
		}
	}
	if !a.AllPatients {
		a.Patients = patients
		if a.Patients == nil {
			a.Patients = []string{}
		}
	}
	if typesSet {
		slices.Sort(types)
		a.Types = slices.Compact(types)
	}
	return a, grants
}

// requestsOf returns the interactions a request needs. instance is set
// for requests on one resource by id.
func (h *handler) requestsOf(x *exchange) ([]security.Request, bool, error) {
	if x.route.pattern == shapeBase.pattern && x.r.Method == http.MethodPost {
		body, err := h.readLimited(x)
		if err != nil {
			return nil, false, err
		}
		x.r.Body = readCloser{bytes.NewReader(body)}
		if err := checkBundleMembers(body); err != nil {
			return nil, false, err
		}
		requests, err := bundleRequests(body)
		return requests, false, err
	}
	if err := h.checkServerLabels(x); err != nil {
		return nil, false, err
	}
	requests := interactionsOf(x.route.pattern, x.r.Method, x.path.typ, x.r.Header.Get("If-None-Exist") != "")
	instance := x.path.id != "" && x.path.typ != ""
	return requests, instance, nil
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// interactionsOf maps a route pattern and method to the interactions it
// performs. Conditional writes also search, because their criteria reveal
// whether a match exists.
func interactionsOf(pattern, method, typ string, conditional bool) []security.Request {
	single := func(t string, i security.Interaction) []security.Request {
		return []security.Request{{Type: t, Interaction: i}}
	}
	two := func(i, j security.Interaction) []security.Request {
		return []security.Request{{Type: typ, Interaction: i}, {Type: typ, Interaction: j}}
	}
	if method == http.MethodHead {
		method = http.MethodGet
	}
	switch pattern {
	case shapeSystemHistory.pattern, shapeSystemExport.pattern, shapePatientExport.pattern:
		return single("*", security.Search)
	case shapeGroupExport.pattern:
		return []security.Request{{Type: "Group", Interaction: security.Read}, {Type: "*", Interaction: security.Search}}
	case shapeType.pattern:
		switch method {
		case http.MethodGet:
			return single(typ, security.Search)
		case http.MethodPost:
			if conditional {
				return two(security.Create, security.Search)
			}
			return single(typ, security.Create)
		case http.MethodPut:
			return []security.Request{{Type: typ, Interaction: security.Create}, {Type: typ, Interaction: security.Update},
				{Type: typ, Interaction: security.Search}}
		case http.MethodDelete:
			return two(security.Delete, security.Search)
		}
	case shapeTypeSearch.pattern, shapeTypeHistory.pattern, "/Appointment/$find":
		return single(typ, security.Search)
	case shapeInstance.pattern:
		switch method {
		case http.MethodGet:
			return single(typ, security.Read)
		case http.MethodPut, http.MethodPatch:
			// A PUT that creates the resource also needs create
			// permission, which writeCheck decides once the write has
			// read the current version.
			return single(typ, security.Update)
		case http.MethodDelete:
			return single(typ, security.Delete)
		}
	case shapeTypeValidate.pattern:
		return single(typ, security.Create)
	case shapeInstanceValidate.pattern:
		return single(typ, security.Update)
	case shapeEverything.pattern, shapeInstanceHistory.pattern, shapeVersion.pattern:
		return single(typ, security.Read)
	}
	// A route that reached here, such as a 405 or 404 route, has no
	// interaction of its own but still needs some read access.
	return single("*", security.Search)
}

// bundleRequests returns the interactions of every entry of a batch or
// transaction, checked one by one. The entries' labels and creates are
// checked by writeCheck as each entry writes.
func bundleRequests(body []byte) ([]security.Request, error) {
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
			Request  struct {
				Method string `json:"method"`
				URL    string `json:"url"`
			} `json:"request"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, malformedBody("the request body is not a JSON Bundle")
	}
	var out []security.Request
	for i, e := range b.Entry {
		u, err := url.Parse(e.Request.URL)
		if err != nil {
			return nil, requestError(http.StatusBadRequest, "invalid", entryName(i)+": request.url is not a valid URL")
		}
		path := "/" + strings.TrimPrefix(u.Path, "/")
		r, values := matchRoute(e.Request.Method, path)
		if r.pattern == "unmatched" || r.pattern == shapeBase.pattern {
			// emr rejects the entry itself, but it still needs access to
			// something.
			out = append(out, security.Request{Type: "*", Interaction: security.Search})
			continue
		}
		conditional := u.RawQuery != "" && e.Request.Method == http.MethodPost
		out = append(out, interactionsOf(r.pattern, e.Request.Method, values.typ, conditional)...)
	}
	if len(out) == 0 {
		out = append(out, security.Request{Type: "*", Interaction: security.Search})
	}
	return out, nil
}

// checkServerLabels rejects a create, update or patch of a scheduling or
// billing type whose body sets meta.security. The server owns these
// labels, so a client cannot relabel a resource to change who may see it.
// Writes to the clinical record are checked on their result by
// writeCheck instead, and meta.versionId and meta.lastUpdated are always
// replaced by emr.
func (h *handler) checkServerLabels(x *exchange) error {
	if !h.ownedByDomain(x.path.typ) {
		return nil
	}
	switch x.r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return nil
	}
	switch x.route.pattern {
	case shapeType.pattern, shapeInstance.pattern:
	default:
		return nil
	}
	body, err := h.readLimited(x)
	if err != nil {
		return err
	}
	x.r.Body = readCloser{bytes.NewReader(body)}
	if x.r.Method == http.MethodPatch {
		// A JSON Patch path (/meta/security) or a FHIRPath Patch
		// (Parameters naming meta and security) can reach the labels.
		// NOTE: the scheduling and billing backends offer no hook to
		// check the patched result, so any patch naming both is rejected.
		lower := bytes.ToLower(body)
		if bytes.Contains(lower, []byte("meta")) && bytes.Contains(lower, []byte("security")) {
			return serverLabelError("")
		}
		return nil
	}
	if hasMetaSecurity(body) {
		return serverLabelError("")
	}
	return nil
}

func serverLabelError(prefix string) error {
	return requestError(http.StatusForbidden, "forbidden",
		prefix+"meta.security labels are set by the server and cannot be written by a client")
}

// hasMetaSecurity reports whether a resource sets meta.security.
func hasMetaSecurity(resource []byte) bool {
	if len(resource) == 0 {
		return false
	}
	var r struct {
		Meta struct {
			Security json.RawMessage `json:"security"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(resource, &r); err != nil {
		return false
	}
	s := bytes.TrimSpace(r.Meta.Security)
	return len(s) > 0 && !bytes.Equal(s, []byte("null")) && !bytes.Equal(s, []byte("[]"))
}

// checkExportOwner lets only the principal that started an export job
// read its status and files. Others get the not-found of an unknown job.
func (h *handler) checkExportOwner(x *exchange, p *security.Principal) error {
	h.authz.mu.Lock()
	owner, ok := h.authz.owners[x.path.id]
	h.authz.mu.Unlock()
	if !ok || owner != principalKey(p) {
		return exportNotFound()
	}
	return nil
}

// trackExportOwner notes the principal of an accepted export kick-off,
// whose Content-Location names the job's status URL.
func (h *handler) trackExportOwner(x *exchange, buf *bufferedResponse) {
	switch x.route.pattern {
	case shapeSystemExport.pattern, shapePatientExport.pattern, shapeGroupExport.pattern:
	default:
		return
	}
	if buf.status != http.StatusAccepted {
		return
	}
	loc := buf.header.Get("Content-Location")
	i := strings.LastIndex(loc, "/")
	if i < 0 {
		return
	}
	h.authz.mu.Lock()
	// NOTE: owners are kept until the handler closes, because export jobs
	// are few and each entry is small.
	h.authz.owners[loc[i+1:]] = principalKey(security.PrincipalFrom(x.r.Context()))
	h.authz.mu.Unlock()
}
