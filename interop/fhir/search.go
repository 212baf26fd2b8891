package fhir

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// cursorParam carries the paging position in next links. emr reads the same
// name in search parameters.
const cursorParam = "_cursor"

// search serves GET [type]?params and POST [type]/_search, whose form body
// adds to the query parameters.
func (h *handler) search(x *exchange) {
	params := url.Values{}
	for name, values := range x.query {
		if !formatParams[name] {
			params[name] = append(params[name], values...)
		}
	}
	if x.r.Method == http.MethodPost {
		body, err := h.readBody(x, true)
		if err != nil {
			h.fail(x, err)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			h.fail(x, requestError(http.StatusBadRequest, "invalid", "the form body is not valid URL encoding"))
			return
		}
		for name, values := range form {
			if !formatParams[name] {
				params[name] = append(params[name], values...)
			}
		}
	}

	kept := url.Values{}
	for _, name := range []string{"_elements", "_summary"} {
		if v, ok := params[name]; ok {
			kept[name] = v
		}
	}
	cut, err := takeSubset(params)
	if err != nil {
		h.fail(x, err)
		return
	}
	if err := h.checkSearchParams(x.path.typ, params); err != nil {
		h.fail(x, err)
		return
	}
	var ignored []string
	if lenientHandling(x.r) {
		params, ignored = h.dropUnknownParams(x.path.typ, params)
	}
	result, err := h.svc.Search(x.ctx, x.path.typ, params)
	if err != nil {
		h.fail(x, searchError{err})
		return
	}
	b := newBundle("searchset")
	if len(ignored) > 0 {
		warning, err := json.Marshal(newOutcome(outcomeIssue{Severity: "warning", Code: "not-supported",
			Diagnostics: "ignored unknown search parameters under Prefer: handling=lenient: " + strings.Join(ignored, ", ")}))
		if err == nil {
			b.Entry = append(b.Entry, bundleEntry{Resource: warning, Search: &entrySearch{Mode: "outcome"}})
		}
	}
	if result.Total >= 0 {
		total := result.Total
		b.Total = &total
	}
	path := "/" + x.path.typ
	self := url.Values{}
	for name, values := range result.Self {
		self[name] = values
	}
	for name, v := range kept {
		if self[name] == nil {
			self[name] = v
		}
	}
	if cursor := params.Get(cursorParam); cursor != "" {
		self.Set(cursorParam, cursor)
	}
	b.Link = append(b.Link, bundleLink{Relation: "self", URL: x.link(path, self)})
	if result.Next != nil {
		next := result.Next
		for name, v := range kept {
			if next[name] == nil {
				next[name] = v
			}
		}
		b.Link = append(b.Link, bundleLink{Relation: "next", URL: x.link(path, next)})
	}
	for i := range result.Resources {
		res := &result.Resources[i]
		body := []byte(res.Body)
		if cut.active() {
			if body, err = cut.apply(body); err != nil {
				h.fail(x, err)
				return
			}
		}
		b.Entry = append(b.Entry, bundleEntry{
			FullURL:  x.fullURL(res),
			Resource: body,
			Search:   &entrySearch{Mode: "match"},
		})
	}
	for i := range result.Included {
		res := &result.Included[i]
		b.Entry = append(b.Entry, bundleEntry{
			FullURL:  x.fullURL(res),
			Resource: res.Body,
			Search:   &entrySearch{Mode: "include"},
		})
	}
	h.writeJSON(x, http.StatusOK, b)
}

// checkSearchParams rejects what emr.Service.Search would accept without
// doing it: a parameter without an expression, such as _text, has no index
// rows, so a search with it would match nothing. It also checks _summary
// here, because emr's error for it quotes the value sent.
func (h *handler) checkSearchParams(typ string, params url.Values) error {
	for name, values := range params {
		if name == "_summary" {
			for _, v := range values {
				switch v {
				case "count", "false":
				case "true":
					return errSummaryTrue
				default:
					return requestError(http.StatusBadRequest, "not-supported", "_summary must be text, data, count or false")
				}
			}
			continue
		}
		code, _, _ := strings.Cut(name, ":")
		if def, ok := h.svc.Registry().Lookup(typ, code); ok && def.Expression == "" {
			return requestError(http.StatusBadRequest, "not-supported",
				"search parameter "+code+" is not supported, because nothing is indexed for it")
		}
	}
	return nil
}

// history serves the instance, type and system history interactions.
func (h *handler) history(x *exchange) {
	q := emr.HistoryQuery{Type: x.path.typ, ID: x.path.id}
	if q.ID != "" && !emr.ValidID(q.ID) {
		h.fail(x, invalidID())
		return
	}
	cut, rest, err := takeInstanceSubset(x.query)
	if err != nil {
		h.fail(x, err)
		return
	}
	if err := parseHistoryParams(rest, &q); err != nil {
		h.fail(x, err)
		return
	}
	page, err := h.svc.History(x.ctx, q)
	if err != nil {
		h.fail(x, searchError{err})
		return
	}
	if q.ID != "" && len(page.Versions) == 0 && q.Before == 0 {
		// An empty first page is either a resource changed before _since
		// or one that never existed, which FHIR reports with 404.
		if _, err := h.svc.Read(x.ctx, q.Type, q.ID); errors.Is(err, emr.ErrNotFound) {
			h.fail(x, err)
			return
		}
	}

	path := "/_history"
	switch {
	case q.ID != "":
		path = "/" + q.Type + "/" + q.ID + "/_history"
	case q.Type != "":
		path = "/" + q.Type + "/_history"
	}
	self := url.Values{}
	for name, values := range x.query {
		if !formatParams[name] {
			self[name] = values
		}
	}
	b := newBundle("history")
	b.Link = append(b.Link, bundleLink{Relation: "self", URL: x.link(path, self)})
	if page.Next > 0 {
		next := url.Values{}
		for name, values := range self {
			next[name] = values
		}
		next.Set(cursorParam, strconv.FormatInt(page.Next, 10))
		b.Link = append(b.Link, bundleLink{Relation: "next", URL: x.link(path, next)})
	}
	for i := range page.Versions {
		version, err := cut.subsetResource(&page.Versions[i])
		if err != nil {
			h.fail(x, err)
			return
		}
		b.Entry = append(b.Entry, x.historyEntry(version))
	}
	h.writeJSON(x, http.StatusOK, b)
}

// parseHistoryParams reads _count, _since and the paging cursor into q and
// rejects every other parameter apart from _format and _pretty.
func parseHistoryParams(query url.Values, q *emr.HistoryQuery) error {
	for name, values := range query {
		value := values[len(values)-1]
		switch name {
		case "_format", "_pretty":
		case "_count":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return requestError(http.StatusBadRequest, "invalid", "_count must be a positive integer")
			}
			q.Count = n
		case "_since":
			lo, _, err := searchparam.ParseDate(value)
			if err != nil {
				return requestError(http.StatusBadRequest, "invalid", "_since must be a FHIR instant such as 2024-05-01T00:00:00Z")
			}
			q.Since = time.UnixMicro(lo).UTC()
		case cursorParam:
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 1 {
				return requestError(http.StatusBadRequest, "invalid", "_cursor must be a cursor from a next link")
			}
			q.Before = n
		case "_at", "_list":
			return requestError(http.StatusBadRequest, "not-supported", "history parameter "+name+" is not supported")
		default:
			return requestError(http.StatusBadRequest, "not-supported",
				"parameter "+name+" is not supported on history; use _count, _since, _cursor, _elements or _summary")
		}
	}
	return nil
}

// historyEntry describes one version as the request that made it, from
// emr.Resource.Method: "create" is POST [type], "update" (also an import)
// is PUT [type]/[id] and "delete" is DELETE [type]/[id]. A deletion has no
// resource and the status 410 Gone. An update or import that wrote version
// 1 created the resource, so it gets 201 Created, as the PUT did.
func (x *exchange) historyEntry(res *emr.Resource) bundleEntry {
	e := bundleEntry{
		FullURL: x.fullURL(res),
		Response: &entryResponse{
			Etag:         etag(res.VersionID),
			LastModified: instant(res.LastUpdated),
		},
	}
	instanceURL := res.Type + "/" + res.ID
	versionURL := instanceURL + "/_history/" + strconv.FormatInt(res.VersionID, 10)
	switch {
	case res.Method == "delete" || res.Deleted:
		e.Request = &entryRequest{Method: http.MethodDelete, URL: instanceURL}
		e.Response.Status = statusLine(http.StatusGone)
	case res.Method == "create":
		e.Resource = res.Body
		e.Request = &entryRequest{Method: http.MethodPost, URL: res.Type}
		e.Response.Status = statusLine(http.StatusCreated)
		e.Response.Location = versionURL
	default:
		e.Resource = res.Body
		e.Request = &entryRequest{Method: http.MethodPut, URL: instanceURL}
		e.Response.Status = statusLine(http.StatusOK)
		if res.VersionID == 1 {
			e.Response.Status = statusLine(http.StatusCreated)
			e.Response.Location = versionURL
		}
	}
	return e
}

// lenientHandling reports whether the request carries Prefer:
// handling=lenient.
func lenientHandling(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), "handling=lenient") {
				return true
			}
		}
	}
	return false
}

// dropUnknownParams removes the parameters that the type has no search
// parameter for, returning what is left and the names removed. Control
// parameters (those starting with "_" that emr handles) stay.
func (h *handler) dropUnknownParams(typ string, params url.Values) (url.Values, []string) {
	kept := url.Values{}
	var ignored []string
	for key, values := range params {
		name, _, _ := strings.Cut(key, ":")
		name, _, _ = strings.Cut(name, ".")
		_, known := h.svc.Registry().Lookup(typ, name)
		if known || strings.HasPrefix(key, "_") {
			kept[key] = values
			continue
		}
		ignored = append(ignored, key)
	}
	sort.Strings(ignored)
	return kept, ignored
}
