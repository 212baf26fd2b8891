package fhir

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/emr"
)

// everythingOperation is the path segment of Patient/[id]/$everything.
const everythingOperation = "$everything"

// everything serves Patient/[id]/$everything: the patient and every
// current resource in the patient's compartment, as one searchset Bundle.
// It takes _since (an instant), _type (comma-separated types) and _count
// (the maximum number of resources, default 1,000). When _count cuts the
// result short the Bundle has a warning outcome entry, because there is no
// next page.
func (h *handler) everything(x *exchange) {
	if x.path.typ != "Patient" {
		h.fail(x, requestError(http.StatusNotFound, "not-supported", "$everything is served for Patient only"))
		return
	}
	if !emr.ValidID(x.path.id) {
		h.fail(x, invalidID())
		return
	}
	p := emr.EverythingParams{PatientID: x.path.id, Max: 1000}
	for name, values := range x.query {
		if formatParams[name] {
			continue
		}
		v := values[len(values)-1]
		switch name {
		case "_since":
			since, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				h.fail(x, requestError(http.StatusBadRequest, "value", "_since must be an instant such as 2024-01-01T00:00:00Z"))
				return
			}
			p.Since = since
		case "_type":
			p.Types = strings.Split(v, ",")
		case "_count":
			n, ok := parsePositive(v)
			if !ok || n > 10000 {
				h.fail(x, requestError(http.StatusBadRequest, "value", "_count must be an integer from 1 to 10000"))
				return
			}
			p.Max = n
		default:
			h.fail(x, requestError(http.StatusBadRequest, "not-supported", "$everything takes only _since, _type and _count"))
			return
		}
	}
	res, err := h.svc.Everything(x.ctx, p)
	if err != nil {
		h.fail(x, searchError{err})
		return
	}
	b := newBundle("searchset")
	total := len(res.Resources)
	b.Total = &total
	self := url.Values{}
	for name, values := range x.query {
		if !formatParams[name] {
			self[name] = values
		}
	}
	b.Link = append(b.Link, bundleLink{Relation: "self", URL: x.link("/Patient/"+x.path.id+"/"+everythingOperation, self)})
	for i := range res.Resources {
		r := &res.Resources[i]
		b.Entry = append(b.Entry, bundleEntry{FullURL: x.fullURL(r), Resource: r.Body, Search: &entrySearch{Mode: "match"}})
	}
	if res.Truncated {
		warning, err := json.Marshal(newOutcome(outcomeIssue{Severity: "warning", Code: "too-costly",
			Diagnostics: "the result stops at _count resources; ask for a larger _count or a narrower _type"}))
		if err != nil {
			h.fail(x, err)
			return
		}
		b.Entry = append(b.Entry, bundleEntry{Resource: warning, Search: &entrySearch{Mode: "outcome"}})
	}
	h.writeJSON(x, http.StatusOK, b)
}

func parsePositive(s string) (int, bool) {
	n := 0
	if s == "" || len(s) > 6 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0
}
