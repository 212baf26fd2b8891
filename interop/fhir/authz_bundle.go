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
	"unicode"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/security"
)

// bundleElements are the element names of the Bundle levels that
// determine what an entry does. A member that differs from one of them only in letter
// case is rejected, because encoding/json matches names without regard to
// case while emr reads them exactly.
var bundleElements = map[jsonLevel][]string{
	levelBundle: {"resourceType", "id", "meta", "implicitRules", "language", "identifier", "type",
		"timestamp", "total", "link", "entry", "signature"},
	levelEntry:   {"id", "extension", "modifierExtension", "link", "fullUrl", "resource", "search", "request", "response"},
	levelRequest: {"id", "extension", "modifierExtension", "method", "url", "ifNoneMatch", "ifModifiedSince", "ifMatch", "ifNoneExist"},
}

// jsonLevel is the place of a JSON value in a Bundle.
type jsonLevel int

const (
	levelOther jsonLevel = iota
	levelBundle
	levelEntries
	levelEntry
	levelRequest
)

// maxBundleDepth is the deepest nesting of objects and arrays that
// checkBundleMembers walks. FHIR resources nest far less.
const maxBundleDepth = 256

// checkBundleMembers rejects a batch or transaction body in which an
// object has a member twice or two members whose names differ only in
// letter case. It also rejects a member that differs from a Bundle, entry
// or request element name only in letter case. Such a body can mean one
// thing to a case-insensitive parser and another to emr, so authorization
// could check other entries than the ones that run.
func checkBundleMembers(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := checkMembers(dec, levelBundle, "Bundle", 0); err != nil {
		return err
	}
	return nil
}

func checkMembers(dec *json.Decoder, level jsonLevel, path string, depth int) error {
	if depth > maxBundleDepth {
		return malformedBody(fmt.Sprintf("%s: the JSON nests deeper than %d levels", path, maxBundleDepth))
	}
	tok, err := dec.Token()
	if err != nil {
		return malformedBody("the request body is not a JSON Bundle")
	}
	switch tok {
	case json.Delim('{'):
		return checkObjectMembers(dec, level, path, depth)
	case json.Delim('['):
		child := levelOther
		if level == levelEntries {
			child = levelEntry
		}
		for i := 0; dec.More(); i++ {
			if err := checkMembers(dec, child, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return malformedBody("the request body is not a JSON Bundle")
		}
	}
	return nil
}

func checkObjectMembers(dec *json.Decoder, level jsonLevel, path string, depth int) error {
	seen := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformedBody("the request body is not a JSON Bundle")
		}
		name, _ := tok.(string)
		folded := foldName(name)
		if first, ok := seen[folded]; ok {
			if first == name {
				return malformedBody(fmt.Sprintf("%s: member %q appears twice", path, name))
			}
			return malformedBody(fmt.Sprintf("%s: members %q and %q differ only in letter case", path, first, name))
		}
		seen[folded] = name
		for _, element := range bundleElements[level] {
			if element != name && foldName(element) == folded {
				return malformedBody(fmt.Sprintf("%s: member %q must be spelled %q", path, name, element))
			}
		}
		child := levelOther
		switch {
		case level == levelBundle && name == "entry":
			child = levelEntries
		case level == levelEntry && name == "request":
			child = levelRequest
		}
		if err := checkMembers(dec, child, path+"."+name, depth+1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return malformedBody("the request body is not a JSON Bundle")
	}
	return nil
}

// foldName maps each rune of s to the smallest rune that Unicode simple
// case folding makes equal to it, so names that encoding/json would
// match, including those with the Kelvin sign or a long s, fold alike.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range s {
		smallest := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			smallest = min(smallest, f)
		}
		b.WriteRune(smallest)
	}
	return b.String()
}

// bundleAuthKey is the context key of the *bundleAuth of a batch or
// transaction request.
type bundleAuthKey struct{}

// bundleAuth checks the entries emr parsed against the caller's decisions
// and records, per entry, whether the caller may read its type, so the
// response leaves out what it may not read.
type bundleAuth struct {
	h         *handler
	principal *security.Principal
	access    *emr.Access
	reads     *readChecker
	// decided are the interactions decided before the bundle ran. Every
	// decision narrowed access.
	decided []security.Request

	mu sync.Mutex
	// readable maps an entry index to whether the caller reads its type.
	readable map[int]bool
}

func newBundleAuth(h *handler, p *security.Principal, access *emr.Access, reads *readChecker, decided []security.Request) *bundleAuth {
	return &bundleAuth{h: h, principal: p, access: access, reads: reads, decided: decided, readable: map[int]bool{}}
}

func bundleAuthFrom(ctx context.Context) *bundleAuth {
	a, _ := ctx.Value(bundleAuthKey{}).(*bundleAuth)
	return a
}

// authorizeEntry is the emr.BundleEntryAuthorizer of a bundle request. It
// decides every interaction the parsed entry performs. An interaction
// that was not decided before the bundle ran is decided here, and its
// Decision must allow at least the Access the bundle runs under.
func (a *bundleAuth) authorizeEntry(ctx context.Context, e emr.BundleEntryRequest) error {
	for _, req := range entryInteractions(e) {
		if err := a.decide(ctx, req); err != nil {
			return err
		}
	}
	readable, err := a.reads.mayRead(ctx, e.Type)
	if err != nil {
		return err
	}
	if e.Method == http.MethodPatch && !readable {
		// A patch runs on the stored content, and its test operations or
		// failures disclose it.
		return fmt.Errorf("patch %s: the access token does not allow read on %s: %w", e.Type, e.Type, emr.ErrForbidden)
	}
	if !a.access.AllPatients {
		if err := a.h.checkTarget(ctx, e.Method, e.Type, e.ID); err != nil {
			return err
		}
	}
	a.mu.Lock()
	a.readable[e.Index] = readable
	a.mu.Unlock()
	return nil
}

// hasUnreadable reports whether the bundle has an entry of a type that
// the caller may not read.
func (a *bundleAuth) hasUnreadable() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, readable := range a.readable {
		if !readable {
			return true
		}
	}
	return false
}

// decide checks one interaction of an entry.
func (a *bundleAuth) decide(ctx context.Context, req security.Request) error {
	if slices.Contains(a.decided, req) {
		return nil
	}
	d, err := a.h.authz.authorizer.Decide(ctx, a.principal, req)
	if errors.Is(err, security.ErrForbidden) {
		return fmt.Errorf("the access token does not allow %s on %s: %w", req.Interaction, typeLabel(req.Type), emr.ErrForbidden)
	}
	if err != nil {
		return err
	}
	entry, _ := accessOf([]security.Decision{d}, []security.Request{req})
	if !accessCovers(entry, a.access) {
		return fmt.Errorf("the entry needs %s on %s, which reaches fewer patients or types than the bundle was authorized for: %w",
			req.Interaction, typeLabel(req.Type), emr.ErrForbidden)
	}
	return nil
}

// accessCovers reports whether wide allows everything that narrow allows.
func accessCovers(wide, narrow *emr.Access) bool {
	if !wide.AllPatients {
		if narrow.AllPatients {
			return false
		}
		for _, id := range narrow.Patients {
			if !slices.Contains(wide.Patients, id) {
				return false
			}
		}
	}
	if wide.Types == nil {
		return true
	}
	if narrow.Types == nil {
		return false
	}
	for _, typ := range narrow.Types {
		if !slices.Contains(wide.Types, typ) {
			return false
		}
	}
	return true
}

// entryInteractions returns the interactions a parsed entry performs, as
// the REST interaction with the same method and URL would.
func entryInteractions(e emr.BundleEntryRequest) []security.Request {
	path := e.URL
	if u, err := url.Parse(e.URL); err == nil {
		path = u.Path
	}
	r, values := matchRoute(e.Method, "/"+strings.TrimPrefix(path, "/"))
	if r.pattern == "unmatched" || r.pattern == shapeBase.pattern || values.typ != e.Type {
		// emr names the type itself; decide the widest interaction on it.
		return []security.Request{{Type: e.Type, Interaction: security.Search}, {Type: e.Type, Interaction: security.Update}}
	}
	return interactionsOf(r.pattern, e.Method, e.Type, e.Criteria != "")
}
