package fhir

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// serveBundleWithout serves a batch or transaction through inner after
// checking that no entry names a type that owns reports true for. Those
// types belong to a domain service (named by service in the error), so the
// clinical record must not read or write them.
func (h *handler) serveBundleWithout(x *exchange, service string, owns func(string) bool, inner serveFunc) {
	body, err := h.readLimited(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	if i, typ, found := ownedEntry(body, owns); found {
		h.fail(x, &httpError{status: http.StatusBadRequest, code: "not-supported", expression: entryName(i),
			message: entryName(i) + ": " + typ + " is served by the " + service + " and cannot be part of a batch or transaction; send it as its own request"})
		return
	}
	x.r.Body = io.NopCloser(bytes.NewReader(body))
	inner(h, x)
}

// ownedEntry returns the first bundle entry whose resource or request URL
// names a type that owns reports true for. A body that is not a bundle is
// left for processBundle to reject.
func ownedEntry(body []byte, owns func(string) bool) (int, string, bool) {
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
			} `json:"resource"`
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &b) != nil {
		return 0, "", false
	}
	for i, e := range b.Entry {
		if owns(e.Resource.ResourceType) {
			return i, e.Resource.ResourceType, true
		}
		target := e.Request.URL
		if u, err := url.Parse(target); err == nil {
			target = u.Path
		}
		for _, segment := range strings.Split(strings.Trim(target, "/"), "/") {
			if owns(segment) {
				return i, segment, true
			}
		}
	}
	return 0, "", false
}
