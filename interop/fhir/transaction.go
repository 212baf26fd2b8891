package fhir

import (
	"encoding/json"
	"net/http"
)

// processBundle serves a batch or transaction posted to the base. A
// transaction that fails is one OperationOutcome naming the failing entry,
// with the status of that entry's error, and nothing is stored.
func (h *handler) processBundle(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	body, err := h.readResourceBody(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	resp, err := h.svc.ProcessBundle(x.ctx, body)
	if err != nil {
		h.fail(x, err) // an *emr.EntryError names the failing entry
		return
	}
	methods := entryMethods(body)
	representation := preferReturn(x.r) == "representation"

	b := newBundle(resp.Type)
	b.Timestamp = instant(h.cfg.Clock())
	b.Entry = make([]bundleEntry, len(resp.Entries))
	for i, er := range resp.Entries {
		if er.Err != nil {
			b.Entry[i] = bundleEntry{Response: &entryResponse{
				Status:  statusLine(statusOf(er.Err)),
				Outcome: h.entryOutcome(x, i, er.Err),
			}}
			continue
		}
		e := bundleEntry{Response: &entryResponse{Status: statusLine(er.Status), Location: er.Location}}
		if res := er.Resource; res != nil {
			e.FullURL = x.fullURL(res)
			e.Response.Etag = etag(res.VersionID)
			e.Response.LastModified = instant(res.LastUpdated)
			if representation || i < len(methods) && methods[i] == http.MethodGet {
				e.Resource = res.Body
			}
		}
		b.Entry[i] = e
	}
	h.limitBundleResponse(x, methods, b)
	h.writeJSON(x, http.StatusOK, b)
}

// entryOutcome builds the OperationOutcome of a failed batch entry and logs
// an internal failure like a failed request.
func (h *handler) entryOutcome(x *exchange, index int, err error) *operationOutcome {
	if statusOf(err) >= http.StatusInternalServerError {
		h.log.ErrorContext(x.ctx, "fhir batch entry failed", "request_id", x.requestID,
			"entry", index, "error", err)
	}
	return outcomeOf(err, index, x.requestID)
}

// entryMethods returns request.method of each entry of a bundle that
// emr.Service.ProcessBundle has accepted, so GET entries can carry the
// resource read.
func entryMethods(body []byte) []string {
	var b struct {
		Entry []struct {
			Request struct {
				Method string `json:"method"`
			} `json:"request"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil
	}
	methods := make([]string, len(b.Entry))
	for i, e := range b.Entry {
		methods[i] = e.Request.Method
	}
	return methods
}
