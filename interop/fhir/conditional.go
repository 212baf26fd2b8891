package fhir

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/emr"
)

// conditionalCreate serves POST [type] with If-None-Exist. It returns 201
// when it created the resource and 200 with the existing one when exactly
// one matched. emr makes concurrent requests with the same criteria create
// one resource.
func (h *handler) conditionalCreate(x *exchange, body []byte, header string) {
	// FHIR sends the query without "?", but some clients prefix "?" or
	// "[type]?".
	query := strings.TrimPrefix(strings.TrimPrefix(header, x.path.typ), "?")
	params, err := url.ParseQuery(query)
	if err != nil {
		h.fail(x, requestError(http.StatusBadRequest, "invalid", "the If-None-Exist header is not valid URL encoding"))
		return
	}
	criteria, err := h.checkCriteria(x.path.typ, params, "If-None-Exist")
	if err != nil {
		h.fail(x, err)
		return
	}
	res, outcome, err := h.svc.ConditionalCreate(x.ctx, x.path.typ, body, criteria)
	if err != nil {
		h.fail(x, err)
		return
	}
	action := "created"
	if outcome != emr.Created {
		action = "matched existing"
	}
	h.writeWritten(x, writeStatus(outcome), res, action)
}

// conditionalUpdate serves PUT [type]?criteria: it updates the one match,
// or creates the resource when none matches.
func (h *handler) conditionalUpdate(x *exchange) {
	if err := rejectIfMatch(x.r, "update"); err != nil {
		h.fail(x, err)
		return
	}
	criteria, err := h.checkCriteria(x.path.typ, searchQuery(x.query), "update")
	if err != nil {
		h.fail(x, err)
		return
	}
	body, err := h.readResourceBody(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	res, outcome, err := h.svc.ConditionalUpdate(x.ctx, x.path.typ, criteria, body)
	if err != nil {
		h.fail(x, matchedIDError(x.path.typ, err))
		return
	}
	h.writeWritten(x, writeStatus(outcome), res, string(outcome))
}

// matchedIDError turns emr's error for a body id that differs from the
// matched resource into a 400, which FHIR R4 requires for a conditional
// update.
//
// emr rejects this case with 400 already. The handler recognises it by
// path and code to give a message that names what to send instead.
func matchedIDError(typ string, err error) error {
	var ve *emr.ValidationError
	if !errors.As(err, &ve) || len(ve.Issues) != 1 {
		return err
	}
	if is := ve.Issues[0]; is.Path != typ+".id" || is.Code != "invalid" {
		return err
	}
	return &httpError{status: http.StatusBadRequest, code: "invalid", expression: typ + ".id",
		message: typ + ".id differs from the id of the resource the criteria match; send the matched id or none"}
}

// conditionalDelete serves DELETE [type]?criteria. One match is deleted,
// and no match succeeds with nothing deleted, as a delete of an unknown id
// does.
func (h *handler) conditionalDelete(x *exchange) {
	if err := rejectIfMatch(x.r, "delete"); err != nil {
		h.fail(x, err)
		return
	}
	criteria, err := h.checkCriteria(x.path.typ, searchQuery(x.query), "delete")
	if err != nil {
		h.fail(x, err)
		return
	}
	res, err := h.svc.ConditionalDelete(x.ctx, x.path.typ, criteria)
	if err != nil {
		h.fail(x, err)
		return
	}
	message := "no " + x.path.typ + " matches the criteria; nothing was deleted"
	if res != nil {
		setVersionHeaders(x.w.Header(), res)
		message = fmt.Sprintf("deleted %s/%s; the deletion is version %d", res.Type, res.ID, res.VersionID)
	}
	h.writeDeleted(x, message)
}

// rejectIfMatch rejects If-Match on a conditional update or delete,
// because emr has no version check for them and ignoring the header would
// let the write go ahead on a version the client did not expect.
func rejectIfMatch(r *http.Request, interaction string) error {
	if r.Header.Get("If-Match") == "" {
		return nil
	}
	return requestError(http.StatusBadRequest, "not-supported",
		"If-Match is not supported on a conditional "+interaction+"; use "+interaction+" by id for a version check")
}

// searchQuery returns the query parameters apart from _format and _pretty.
func searchQuery(query url.Values) url.Values {
	params := url.Values{}
	for name, values := range query {
		if !formatParams[name] {
			params[name] = values
		}
	}
	return params
}

// checkCriteria checks the search criteria of a conditional request as a
// search of typ and returns them encoded for emr. Invalid criteria get 400
// as an invalid search does, and criteria without a search parameter get
// 400 because they would match every resource of the type. source names
// where the criteria came from, for the error message.
func (h *handler) checkCriteria(typ string, params url.Values, source string) (string, error) {
	if err := h.checkSearchParams(typ, params); err != nil {
		return "", err
	}
	_, used, err := h.svc.ParseSearch(typ, params)
	if err != nil {
		return "", searchError{err}
	}
	used.Del("_count")
	if len(used) == 0 {
		return "", requestError(http.StatusBadRequest, "invalid", "a conditional "+source+
			" needs at least one search parameter, such as identifier=http://example.org/mrn|123")
	}
	return params.Encode(), nil
}

// notModified reports whether a read may return 304 Not Modified: when an
// If-None-Match ETag names the current version (or is "*"), or, without
// If-None-Match, when the resource has not changed after If-Modified-Since.
// An If-Modified-Since that is not an HTTP date is ignored, as RFC 9110
// specifies.
//
// NOTE: HTTP dates have whole seconds, so a second change in the same
// second as the date the client holds still gives 304. If-None-Match has no
// such gap.
func notModified(r *http.Request, res *emr.Resource) bool {
	if values := r.Header.Values("If-None-Match"); len(values) > 0 {
		return etagListMatches(values, res.VersionID)
	}
	header := r.Header.Get("If-Modified-Since")
	if header == "" {
		return false
	}
	since, err := http.ParseTime(header)
	if err != nil {
		return false
	}
	return !res.LastUpdated.Truncate(time.Second).After(since)
}

// etagListMatches reports whether an If-None-Match list names version. The
// comparison is weak, as RFC 9110 specifies for If-None-Match, so "3" and
// W/"3" both match version 3. Entries that are not version ETags never
// match.
func etagListMatches(values []string, version int64) bool {
	for _, value := range values {
		for _, tag := range strings.Split(value, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				return true
			}
			if v, err := emr.ParseETag(tag); err == nil && v == version {
				return true
			}
		}
	}
	return false
}
