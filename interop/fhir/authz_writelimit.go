package fhir

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/security"
)

// readChecker decides, once per resource type and request, whether the
// caller may read resources of a type.
type readChecker struct {
	authorizer Authorizer
	principal  *security.Principal

	mu    sync.Mutex
	cache map[string]bool
}

func newReadChecker(a Authorizer, p *security.Principal) *readChecker {
	return &readChecker{authorizer: a, principal: p, cache: map[string]bool{}}
}

// mayRead reports whether a scope and a role of the caller allow read on
// typ, for any patient.
func (c *readChecker) mayRead(ctx context.Context, typ string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok, known := c.cache[typ]; known {
		return ok, nil
	}
	_, err := c.authorizer.Decide(ctx, c.principal, security.Request{Type: typ, Interaction: security.Read})
	if err != nil && !errors.Is(err, security.ErrForbidden) {
		return false, err
	}
	c.cache[typ] = err == nil
	return err == nil, nil
}

// writeLimitKey is the context key of a write by a caller who may not
// read the written type. Its value is the request method.
type writeLimitKey struct{}

// limitWrites applies the rules for writes that depend on what the caller
// may read. It runs after the request's decisions and Access are set.
//
//   - A batch or transaction gets a bundleAuth, which emr calls for each
//     entry it parsed.
//   - A PUT or PATCH on one resource by a caller who does not reach every
//     patient must name a resource the caller can see (see checkTarget).
//   - A caller who may not read the type may not PATCH it, because the
//     patch runs on the stored content. Its other writes get
//     return=minimal and generic error bodies (see limitWriteResponse).
func (h *handler) limitWrites(x *exchange, p *security.Principal, requests []security.Request, access *emr.Access) error {
	reads := newReadChecker(h.authz.authorizer, p)
	if x.route.pattern == shapeBase.pattern && x.r.Method == http.MethodPost {
		auth := newBundleAuth(h, p, access, reads, requests)
		x.ctx = context.WithValue(x.ctx, bundleAuthKey{}, auth)
		x.ctx = emr.ContextWithBundleEntryAuthorizer(x.ctx, auth.authorizeEntry)
		return nil
	}
	if !isWrite(x.r.Method) || x.path.typ == "" {
		return nil
	}
	instance := x.route.pattern == shapeInstance.pattern
	if !instance && x.route.pattern != shapeType.pattern {
		// Searches by POST and operations such as $validate write
		// nothing.
		return nil
	}
	if instance && !access.AllPatients {
		if err := h.checkTarget(x.ctx, x.r.Method, x.path.typ, x.path.id); err != nil {
			return err
		}
	}
	readable, err := reads.mayRead(x.ctx, x.path.typ)
	if err != nil || readable {
		return err
	}
	if x.r.Method == http.MethodPatch {
		return h.denied(x, instance, security.Request{Type: x.path.typ, Interaction: security.Read})
	}
	// The handlers write the body that Prefer requests. return=minimal
	// leaves only the status and the headers of the version written.
	x.r.Header.Set("Prefer", "return=minimal")
	x.ctx = context.WithValue(x.ctx, writeLimitKey{}, x.r.Method)
	return nil
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// checkTarget checks the target of a PUT or PATCH by a caller who does
// not reach every patient. A target the caller cannot see fails the same
// way whether it is missing or hidden: a PATCH as a read of a missing
// resource (404), and a PUT with 403, because a hidden id cannot be
// created. So update-as-create is not available to such a caller, who
// creates with POST.
func (h *handler) checkTarget(ctx context.Context, method, typ, id string) error {
	if method != http.MethodPut && method != http.MethodPatch {
		return nil
	}
	err := h.checkVisible(ctx, typ, id)
	if method == http.MethodPut && errors.Is(err, emr.ErrNotFound) {
		return fmt.Errorf("update %s/%s: no resource with this id is visible to the access token, "+
			"and creating a resource by PUT needs access to every patient; create it with POST: %w", typ, id, emr.ErrForbidden)
	}
	return err
}

// checkVisible returns the not-found error of a read of a missing
// resource unless the caller's Access shows typ/id. A deleted resource
// that the caller can see counts as visible.
func (h *handler) checkVisible(ctx context.Context, typ, id string) error {
	_, err := h.svc.Read(ctx, typ, id)
	switch {
	case err == nil, errors.Is(err, emr.ErrGone):
		return nil
	case errors.Is(err, emr.ErrNotFound):
		return fmt.Errorf("read %s/%s: %w", typ, id, emr.ErrNotFound)
	}
	return err
}

// limitWriteResponse removes from the response of a write, by a caller
// who may not read the written type, what the write did not create. The
// body of a failure becomes a generic OperationOutcome. Only a new
// version that the caller wrote keeps its ETag, Last-Modified and
// Location.
func (h *handler) limitWriteResponse(x *exchange, buf *bufferedResponse) {
	method, _ := x.ctx.Value(writeLimitKey{}).(string)
	if auth := bundleAuthFrom(x.ctx); auth != nil && buf.status >= http.StatusBadRequest && auth.hasUnreadable() {
		// A failed transaction is one OperationOutcome, whose message may
		// come from an entry of a type the caller may not read.
		method = http.MethodPost
	}
	if method == "" {
		return
	}
	if !wroteVersion(method, buf.status) {
		for _, name := range []string{"ETag", "Last-Modified", "Location", "Content-Location"} {
			buf.header.Del(name)
		}
	}
	if buf.status < http.StatusBadRequest {
		buf.body.Reset()
		buf.header.Del("Content-Type")
		buf.header.Del("Content-Length")
		return
	}
	body, err := encodeJSON(genericOutcome(method, buf.status))
	if err != nil {
		h.log.ErrorContext(x.ctx, "encode fhir response", "request_id", x.requestID, "error", err)
	}
	buf.body.Reset()
	buf.body.Write(body)
	buf.header.Set("Content-Type", contentType)
	buf.header.Set("Content-Length", strconv.Itoa(len(body)))
}

// wroteVersion reports whether a write with this method and status stored
// a version the caller sent: a create (201), or an update or patch (200).
// A conditional create that matched an existing resource also returns
// 200, and its version is not the caller's.
func wroteVersion(method string, status int) bool {
	switch {
	case status == http.StatusCreated:
		return true
	case status == http.StatusOK:
		return method == http.MethodPut || method == http.MethodPatch
	}
	return false
}

// genericOutcome is the error body of a failed write by a caller who may
// not read the type. It names the status only, because a detailed message
// could quote stored content or tell stored states apart.
func genericOutcome(method string, status int) *operationOutcome {
	code := "processing"
	switch status {
	case http.StatusBadRequest:
		code = "invalid"
	case http.StatusForbidden:
		code = "forbidden"
	case http.StatusNotFound:
		code = "not-found"
	case http.StatusConflict, http.StatusPreconditionFailed:
		code = "conflict"
	case http.StatusRequestEntityTooLarge:
		code = "too-costly"
	}
	if status >= http.StatusInternalServerError {
		code = "exception"
	}
	return newOutcome(outcomeIssue{Severity: "error", Code: code,
		Diagnostics: fmt.Sprintf("the %s request failed with status %d %s; the access token does not allow read, so no detail is given",
			strings.ToUpper(method), status, http.StatusText(status))})
}

// limitBundleResponse removes from a batch or transaction response what
// the caller may not read. An entry of a type the caller may not read
// loses its resource and its error detail. It also loses its ETag and
// Last-Modified unless the entry stored that version itself.
func (h *handler) limitBundleResponse(x *exchange, methods []string, b *bundle) {
	auth := bundleAuthFrom(x.ctx)
	if auth == nil {
		return
	}
	auth.mu.Lock()
	defer auth.mu.Unlock()
	for i := range b.Entry {
		readable, known := auth.readable[i]
		if readable {
			continue
		}
		resp := b.Entry[i].Response
		if resp == nil {
			continue
		}
		method := ""
		if i < len(methods) {
			method = methods[i]
		}
		if !known && resp.Outcome != nil {
			// The entry failed before its authorization recorded it, in
			// parsing or in the hook; that message names no stored data.
			continue
		}
		b.Entry[i].Resource = nil
		status := statusCode(resp.Status)
		if resp.Outcome != nil {
			resp.Outcome = genericOutcome(method, status)
		}
		if !wroteVersion(method, status) {
			b.Entry[i].FullURL = ""
			resp.Location, resp.Etag, resp.LastModified = "", "", ""
		}
	}
}

// statusCode reads the code of a Bundle.entry.response.status line.
func statusCode(line string) int {
	var code int
	_, _ = fmt.Sscanf(line, "%d", &code)
	return code
}
