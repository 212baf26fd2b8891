package emr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// BundleResponse is the outcome of a batch or transaction, one entry per
// request entry in the same order.
type BundleResponse struct {
	// Type is "transaction-response" or "batch-response".
	Type    string
	Entries []EntryResponse
}

// EntryResponse is the outcome of one entry.
type EntryResponse struct {
	// Status is the HTTP status code of the entry.
	Status   int
	Location string
	// Resource is the stored or read version, nil for a failed entry.
	Resource *Resource
	// Err is the failure of a batch entry.
	Err error
}

type bundleEntry struct {
	index     int
	method    string
	url       string
	fullURL   string
	tree      map[string]any
	typ, id   string
	ifMatch   int64
	ifNoneEx  string
	condQuery url.Values
	// patch is the body of a PATCH entry.
	patch *entryPatch
}

// methodOrder is the order in which FHIR R4 processes transaction entries:
// DELETE, then POST, then PUT and PATCH, then GET and HEAD.
var methodOrder = map[string]int{"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}

// ProcessBundle runs a FHIR batch or transaction. A transaction is atomic:
// any failing entry fails the whole bundle with an *EntryError and nothing
// is stored. A batch runs each entry on its own and reports failures per
// entry. Supported entries: POST (create, with ifNoneExist), PUT Type/id
// (update or create, with ifMatch), PATCH Type/id (with ifMatch), DELETE
// Type/id and GET Type/id or Type/id/_history/n. A PATCH entry's resource
// is a Binary of contentType application/json-patch+json whose data is a
// JSON Patch, or a Parameters resource that is a FHIRPath Patch. Entries
// run in the order DELETE, POST, PUT and PATCH, GET, as FHIR R4 requires
// for transactions. POST assigns new ids; references to an entry's
// fullUrl are rewritten to the stored Type/id, conditional references such
// as Patient?identifier=sys|val are resolved to the one match, and
// versioned references are kept as sent once their version is found to
// exist.
func (s *Service) ProcessBundle(ctx context.Context, body []byte) (*BundleResponse, error) {
	tree, err := decodeJSON(body)
	if err != nil {
		return nil, err
	}
	if tree["resourceType"] != "Bundle" {
		return nil, invalid("", "invalid", "a batch or transaction must be a Bundle")
	}
	kind, _ := tree["type"].(string)
	if kind != "transaction" && kind != "batch" {
		return nil, invalid("Bundle.type", "value", "Bundle.type must be transaction or batch")
	}
	raw, _ := tree["entry"].([]any)
	if len(raw) > s.cfg.MaxBundleEntries {
		return nil, fmt.Errorf("bundle has %d entries, the maximum is %d: %w", len(raw), s.cfg.MaxBundleEntries, ErrTooLarge)
	}
	entries := make([]*bundleEntry, len(raw))
	resp := &BundleResponse{Type: kind + "-response", Entries: make([]EntryResponse, len(raw))}
	var order []*bundleEntry
	for i, r := range raw {
		e, err := s.parseBundleEntry(i, r)
		if err == nil {
			err = authorizeBundleEntry(ctx, e)
		}
		if err != nil {
			if kind == "batch" {
				// A batch entry that cannot be run fails alone.
				resp.Entries[i] = EntryResponse{Status: StatusFor(err), Err: err}
				continue
			}
			return nil, &EntryError{Index: i, Err: err}
		}
		entries[i] = e
		order = append(order, e)
	}
	if kind == "transaction" {
		if err := checkOverlap(entries); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return methodOrder[order[a].method] < methodOrder[order[b].method] })

	if kind == "batch" {
		for _, e := range order {
			err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
				r, err := s.runEntry(ctx, tx, e, map[string]string{})
				if err == nil {
					resp.Entries[e.index] = *r
				}
				return err
			})
			if err != nil {
				resp.Entries[e.index] = EntryResponse{Status: StatusFor(err), Err: err}
			}
		}
		return resp, nil
	}

	locks, err := s.transactionLocks(entries)
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		// Taking every lock the transaction needs up front and in one
		// order keeps concurrent transactions from deadlocking.
		for _, name := range locks {
			if err := s.lockIn(ctx, tx, name); err != nil {
				return err
			}
		}
		mapping := map[string]string{}
		// POST entries get their ids first, so references between entries
		// resolve whatever their order.
		for _, e := range order {
			if e.method == "POST" && e.ifNoneEx == "" {
				e.id = s.cfg.NewID()
				if e.fullURL != "" {
					mapping[e.fullURL] = e.typ + "/" + e.id
				}
			}
			if e.method == "PUT" && e.fullURL != "" {
				mapping[e.fullURL] = e.typ + "/" + e.id
			}
		}
		// Entries with the same criteria share one resource: the first
		// creates it and the others match it.
		byCriteria := map[string]string{}
		for _, e := range order {
			if e.method != "POST" || e.ifNoneEx == "" {
				continue
			}
			_, criteria, err := s.criteria(e.typ, e.ifNoneEx)
			if err != nil {
				return &EntryError{Index: e.index, Err: err}
			}
			id, seen := byCriteria[criteria]
			if seen {
				e.method = "MATCHED_IN_BUNDLE"
			} else {
				var err error
				id, err = s.conditionalMatch(ctx, tx, e.typ, e.ifNoneEx)
				if err != nil {
					return &EntryError{Index: e.index, Err: err}
				}
				if id == "" {
					id = s.cfg.NewID()
				} else {
					e.method = "MATCHED"
				}
				byCriteria[criteria] = id
			}
			e.id = id
			if e.fullURL != "" {
				mapping[e.fullURL] = e.typ + "/" + id
			}
		}
		for _, e := range order {
			r, err := s.runEntry(ctx, tx, e, mapping)
			if err != nil {
				var rt retryable
				if errors.As(err, &rt) {
					return err
				}
				return &EntryError{Index: e.index, Err: err}
			}
			resp.Entries[e.index] = *r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// transactionLocks returns the sorted lock names of the resources a
// transaction changes and of its conditional creates.
func (s *Service) transactionLocks(entries []*bundleEntry) ([]string, error) {
	var names []string
	for _, e := range entries {
		switch {
		case e.method == "PUT" || e.method == "PATCH" || e.method == "DELETE":
			names = append(names, "resource:"+e.typ+"/"+e.id)
		case e.method == "POST" && e.ifNoneEx != "":
			_, canonical, err := s.criteria(e.typ, e.ifNoneEx)
			if err != nil {
				return nil, &EntryError{Index: e.index, Err: err}
			}
			names = append(names, conditionalLock(canonical))
		}
	}
	sort.Strings(names)
	return names, nil
}

// checkOverlap rejects a transaction whose entries share a fullUrl or
// write the same resource twice, because FHIR R4 leaves the outcome of
// such a transaction undefined and requires servers to fail it.
func checkOverlap(entries []*bundleEntry) error {
	fullURLs := map[string]int{}
	targets := map[string]int{}
	for _, e := range entries {
		if e.fullURL != "" {
			if first, ok := fullURLs[e.fullURL]; ok {
				return &EntryError{Index: e.index, Err: malformed(fmt.Sprintf("Bundle.entry[%d].fullUrl", e.index),
					"fullUrl is also the fullUrl of entry %d", first)}
			}
			fullURLs[e.fullURL] = e.index
		}
		if e.method == "PUT" || e.method == "PATCH" || e.method == "DELETE" {
			key := e.typ + "/" + e.id
			if first, ok := targets[key]; ok {
				return &EntryError{Index: e.index, Err: malformed(fmt.Sprintf("Bundle.entry[%d].request.url", e.index),
					"entry %d already changes the same resource", first)}
			}
			targets[key] = e.index
		}
	}
	return nil
}

func (s *Service) parseBundleEntry(i int, raw any) (*bundleEntry, error) {
	path := fmt.Sprintf("Bundle.entry[%d]", i)
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, invalid(path, "structure", "entry must be an object")
	}
	req, _ := m["request"].(map[string]any)
	if req == nil {
		return nil, invalid(path+".request", "required", "entry.request is missing")
	}
	e := &bundleEntry{index: i}
	e.method, _ = req["method"].(string)
	e.url, _ = req["url"].(string)
	e.fullURL, _ = m["fullUrl"].(string)
	e.ifNoneEx, _ = req["ifNoneExist"].(string)
	if im, ok := req["ifMatch"].(string); ok && im != "" {
		v, err := ParseETag(im)
		if err != nil {
			return nil, invalid(path+".request.ifMatch", "value", "ifMatch must be an ETag such as W/\"3\"")
		}
		e.ifMatch = v
	}
	e.tree, _ = m["resource"].(map[string]any)
	target := strings.TrimPrefix(e.url, "/")
	pathPart, query, hasQuery := strings.Cut(target, "?")
	segs := strings.Split(pathPart, "/")
	switch e.method {
	case "POST":
		if e.tree == nil {
			return nil, invalid(path+".resource", "required", "POST entry has no resource")
		}
		e.typ = segs[0]
		if rt, _ := e.tree["resourceType"].(string); rt != e.typ {
			return nil, invalid(path+".request.url", "invalid", "request.url does not name the resource's type")
		}
	case "PUT":
		if e.tree == nil {
			return nil, invalid(path+".resource", "required", "PUT entry has no resource")
		}
		if hasQuery || len(segs) != 2 {
			return nil, fmt.Errorf("%s.request.url: conditional update in a bundle: %w", path, ErrUnsupported)
		}
		e.typ, e.id = segs[0], segs[1]
	case "PATCH":
		if hasQuery || len(segs) != 2 {
			return nil, fmt.Errorf("%s.request.url: conditional patch in a bundle: %w", path, ErrUnsupported)
		}
		e.typ, e.id = segs[0], segs[1]
		patch, err := parsePatchEntry(path, e.tree)
		if err != nil {
			return nil, err
		}
		e.patch, e.tree = patch, nil
	case "DELETE", "GET":
		if hasQuery {
			q, err := url.ParseQuery(query)
			if err != nil {
				return nil, invalid(path+".request.url", "value", "request.url has an invalid query")
			}
			e.condQuery = q
			if e.method == "GET" {
				return nil, fmt.Errorf("%s.request.url: search in a bundle: %w", path, ErrUnsupported)
			}
			return nil, fmt.Errorf("%s.request.url: conditional delete: %w", path, ErrUnsupported)
		}
		if len(segs) != 2 && !(e.method == "GET" && len(segs) == 4 && segs[2] == "_history") {
			return nil, invalid(path+".request.url", "value", "request.url must be Type/id")
		}
		e.typ, e.id = segs[0], segs[1]
	default:
		return nil, fmt.Errorf("%s.request.method %q: %w", path, e.method, ErrUnsupported)
	}
	if !IsResourceType(e.typ) {
		return nil, invalid(path+".request.url", "not-supported", "unknown resource type %s", e.typ)
	}
	return e, nil
}

// criteria compiles the search of a conditional request and returns it with
// a canonical text: the same criteria written differently (another order,
// other percent-encoding) give the same text.
func (s *Service) criteria(typ, query string) (Query, string, error) {
	params, err := url.ParseQuery(query)
	if err != nil {
		return Query{}, "", malformed("", "invalid search in a conditional request: the query is not valid URL encoding")
	}
	q, self, err := s.ParseSearch(typ, params)
	if err != nil {
		return Query{}, "", err
	}
	self.Del(paramCount)
	if len(self) == 0 {
		return Query{}, "", badSearch("", "invalid", "a conditional request needs at least one search parameter")
	}
	return q, typ + "?" + self.Encode(), nil
}

// conditionalMatch returns the id of the one resource matching query, ""
// when none does, and an error when several do.
func (s *Service) conditionalMatch(ctx context.Context, tx Tx, typ, query string) (string, error) {
	q, canonical, err := s.criteria(typ, query)
	if err != nil {
		return "", err
	}
	if id, ok := s.recallMatch(tx, canonical); ok {
		return id, nil
	}
	// The lock makes concurrent conditional creates of the same criteria
	// take turns, so exactly one of them creates.
	if err := s.lockIn(ctx, tx, conditionalLock(canonical)); err != nil {
		return "", err
	}
	q.Count = 2
	q.CountOnly, q.Total = false, false
	page, err := tx.Search(ctx, q)
	if err != nil {
		return "", err
	}
	switch len(page.Resources) {
	case 0:
		return "", nil
	case 1:
		return page.Resources[0].ID, nil
	}
	return "", fmt.Errorf("conditional request on %s matches more than one resource: %w", typ, ErrPreconditionFailed)
}

func (s *Service) runEntry(ctx context.Context, tx Tx, e *bundleEntry, mapping map[string]string) (*EntryResponse, error) {
	switch e.method {
	case "MATCHED", "MATCHED_IN_BUNDLE":
		res, err := tx.Read(ctx, e.typ, e.id)
		if err != nil {
			return nil, err
		}
		return &EntryResponse{Status: http.StatusOK, Location: location(res), Resource: res}, nil
	case "GET":
		var res *Resource
		var err error
		segs := strings.Split(strings.TrimPrefix(e.url, "/"), "/")
		if len(segs) == 4 {
			v, perr := strconv.ParseInt(segs[3], 10, 64)
			if perr != nil {
				return nil, fmt.Errorf("read %s/%s: invalid version: %w", e.typ, e.id, ErrNotFound)
			}
			res, err = tx.ReadVersion(ctx, e.typ, e.id, v)
		} else {
			res, err = tx.Read(ctx, e.typ, e.id)
		}
		if err != nil {
			return nil, err
		}
		if res.Deleted {
			return nil, fmt.Errorf("read %s/%s: %w", e.typ, e.id, ErrGone)
		}
		return &EntryResponse{Status: http.StatusOK, Resource: res}, nil
	case "DELETE":
		res, err := s.deleteInTx(ctx, tx, e.typ, e.id, e.ifMatch)
		if errors.Is(err, ErrNotFound) {
			return &EntryResponse{Status: http.StatusNoContent}, nil
		}
		if err != nil {
			return nil, err
		}
		return &EntryResponse{Status: http.StatusNoContent, Resource: nil, Location: location(res)}, nil
	case "PATCH":
		return s.runPatchEntry(ctx, tx, e, mapping)
	}
	if e.method == "POST" && e.id == "" {
		e.id = s.cfg.NewID() // a batch entry: ids are assigned here
	}
	if err := s.resolveReferences(ctx, tx, e.tree, mapping); err != nil {
		return nil, err
	}
	if e.method == "PUT" {
		if bodyID, ok := e.tree["id"]; ok && bodyID != e.id {
			return nil, invalid(e.typ+".id", "invalid", "id in the resource does not match request.url")
		}
	}
	p, err := s.prepare(e.typ, e.id, e.tree)
	if err != nil {
		return nil, err
	}
	mode := writeMode{ifMatch: e.ifMatch, mustCreate: e.method == "POST"}
	res, outcome, err := s.write(ctx, tx, p, mode)
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if outcome == Created {
		status = http.StatusCreated
	}
	return &EntryResponse{Status: status, Location: location(res), Resource: res}, nil
}

func location(r *Resource) string {
	return fmt.Sprintf("%s/%s/_history/%d", r.Type, r.ID, r.VersionID)
}

// resolveReferences rewrites bundle-local and conditional references of
// one resource and checks that versioned references name a stored version.
func (s *Service) resolveReferences(ctx context.Context, tx Tx, tree map[string]any, mapping map[string]string) error {
	var refs []map[string]any
	collectReferences(tree, &refs)
	for _, ref := range refs {
		value := ref["reference"].(string)
		if to, ok := mapping[value]; ok {
			ref["reference"] = to
			continue
		}
		base, hist, versioned := strings.Cut(value, "/_history/")
		if to, ok := mapping[base]; ok && versioned {
			// A versioned reference to an entry of this bundle names the
			// version this transaction writes; the stored form keeps
			// the version as sent.
			ref["reference"] = to + "/_history/" + hist
			continue
		}
		switch {
		case strings.HasPrefix(value, "urn:uuid:"), strings.HasPrefix(value, "urn:oid:"):
			return invalid("", "not-found", "reference to a bundle entry that does not exist")
		case isConditionalReference(value):
			typ, query, _ := strings.Cut(value, "?")
			id, err := s.conditionalMatch(ctx, tx, typ, query)
			if err != nil {
				return err
			}
			if id == "" {
				return fmt.Errorf("conditional reference on %s matches no resource: %w", typ, ErrPreconditionFailed)
			}
			ref["reference"] = typ + "/" + id
		case versioned && !strings.Contains(value, "://"):
			typ, id, _ := strings.Cut(base, "/")
			v, err := strconv.ParseInt(hist, 10, 64)
			if err != nil {
				return invalid("", "value", "versioned reference has an invalid version")
			}
			if _, err := tx.ReadVersion(ctx, typ, id, v); err != nil {
				if errors.Is(err, ErrNotFound) {
					return fmt.Errorf("versioned reference to %s/%s: version %d %w", typ, id, v, ErrNotFound)
				}
				return err
			}
		}
	}
	return nil
}

// isConditionalReference reports whether ref has the form Type?query.
func isConditionalReference(ref string) bool {
	typ, _, ok := strings.Cut(ref, "?")
	return ok && IsResourceType(typ)
}

func collectReferences(v any, out *[]map[string]any) {
	switch n := v.(type) {
	case map[string]any:
		for k, child := range n {
			if _, ok := child.(string); ok && k == "reference" {
				*out = append(*out, n)
				continue
			}
			collectReferences(child, out)
		}
	case []any:
		for _, child := range n {
			collectReferences(child, out)
		}
	}
}

// ParseETag reads a version from an ETag or If-Match value: W/"3", "3" or 3.
func ParseETag(s string) (int64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	s = strings.Trim(s, `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("invalid ETag: %w", ErrInvalid)
	}
	return v, nil
}

// StatusFor maps an error of this package to the HTTP status FHIR uses for
// it.
func StatusFor(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrGone):
		return http.StatusGone
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrVersionMismatch):
		return http.StatusPreconditionFailed
	case errors.Is(err, ErrPreconditionFailed):
		return http.StatusPreconditionFailed
	case errors.Is(err, ErrConflict), errors.Is(err, ErrPossibleDuplicate):
		return http.StatusConflict
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrUnsupported):
		return http.StatusBadRequest
	case errors.Is(err, ErrInvalid):
		var ve *ValidationError
		if errors.As(err, &ve) {
			if ve.Malformed {
				return http.StatusBadRequest
			}
			for _, is := range ve.Issues {
				if is.Code == "not-supported" || (is.Code == "value" && strings.HasPrefix(is.Path, "_")) {
					return http.StatusBadRequest
				}
			}
		}
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}
