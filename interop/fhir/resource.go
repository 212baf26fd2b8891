package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/nexus-health-360/nexus/emr"
)

// formatParams are the query parameters every interaction accepts.
var formatParams = map[string]bool{"_format": true, "_pretty": true}

// checkNoParams rejects query parameters other than _format and _pretty on
// an interaction that has none, so a client never believes that a parameter
// such as _summary or _elements took effect.
func checkNoParams(x *exchange) error {
	for name := range x.query {
		if !formatParams[name] {
			return requestError(http.StatusBadRequest, "not-supported",
				"parameter "+name+" is not supported on "+x.route.pattern)
		}
	}
	return nil
}

func invalidID() error {
	return requestError(http.StatusNotFound, "not-found", "the resource id in the path is not a valid FHIR id")
}

// checkOnlyFormatParams is checkNoParams for the query parameters left
// after the subset parameters are taken out.
func checkOnlyFormatParams(x *exchange, rest url.Values) error {
	for name := range rest {
		if !formatParams[name] {
			return requestError(http.StatusBadRequest, "not-supported",
				"parameter "+name+" is not supported on "+x.route.pattern)
		}
	}
	return nil
}

// instanceSubset reads _elements and _summary of a read or vread and
// rejects every other parameter except _format and _pretty.
func instanceSubset(x *exchange) (*subset, error) {
	cut, rest, err := takeInstanceSubset(x.query)
	if err != nil {
		return nil, err
	}
	if err := checkOnlyFormatParams(x, rest); err != nil {
		return nil, err
	}
	return cut, nil
}

func (h *handler) read(x *exchange) {
	cut, err := instanceSubset(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	if !emr.ValidID(x.path.id) {
		h.fail(x, invalidID())
		return
	}
	res, err := h.svc.Read(x.ctx, x.path.typ, x.path.id)
	if err == nil && notModified(x.r, res) {
		setVersionHeaders(x.w.Header(), res)
		x.w.WriteHeader(http.StatusNotModified)
		return
	}
	h.writeRead(x, cut, res, err)
}

func (h *handler) vread(x *exchange) {
	cut, err := instanceSubset(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	version, err := versionTarget(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	res, err := h.svc.VRead(x.ctx, x.path.typ, x.path.id, version)
	h.writeRead(x, cut, res, err)
}

// vreadTarget checks a vread request (no parameters, a valid id) and
// returns the version number in its path.
func vreadTarget(x *exchange) (int64, error) {
	if err := checkNoParams(x); err != nil {
		return 0, err
	}
	return versionTarget(x)
}

// versionTarget checks the id and returns the version number in the path
// of a vread.
func versionTarget(x *exchange) (int64, error) {
	if !emr.ValidID(x.path.id) {
		return 0, invalidID()
	}
	version, err := strconv.ParseInt(x.path.version, 10, 64)
	if err != nil || version <= 0 {
		return 0, requestError(http.StatusNotFound, "not-found", "the version id in the path must be a positive integer")
	}
	return version, nil
}

// writeRead writes the outcome of a read, cut down to the subset. A
// deletion gives 410 with the ETag of the deletion version.
func (h *handler) writeRead(x *exchange, cut *subset, res *emr.Resource, err error) {
	if err != nil {
		if errors.Is(err, emr.ErrGone) && res != nil {
			setVersionHeaders(x.w.Header(), res)
		}
		h.fail(x, err)
		return
	}
	if res, err = cut.subsetResource(res); err != nil {
		h.fail(x, err)
		return
	}
	h.writeResource(x, http.StatusOK, res)
}

func (h *handler) create(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	body, err := h.readResourceBody(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	if condition := x.r.Header.Get("If-None-Exist"); condition != "" {
		h.conditionalCreate(x, body, condition)
		return
	}
	res, err := h.svc.Create(x.ctx, x.path.typ, body)
	if err != nil {
		h.fail(x, err)
		return
	}
	h.writeWritten(x, http.StatusCreated, res, "created")
}

func (h *handler) update(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	ifMatch, err := parseIfMatch(x.r)
	if err != nil {
		h.fail(x, err)
		return
	}
	body, err := h.readResourceBody(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	if err := checkUpdateID(x.path.typ, x.path.id, body); err != nil {
		h.fail(x, err)
		return
	}
	res, outcome, err := h.svc.Update(x.ctx, emr.UpdateParams{
		Type: x.path.typ, ID: x.path.id, Body: body, IfMatch: ifMatch,
	})
	if err != nil {
		h.fail(x, err)
		return
	}
	h.writeWritten(x, writeStatus(outcome), res, string(outcome))
}

// writeStatus returns 201 for a write that created the resource and 200
// for any other.
func writeStatus(outcome emr.Outcome) int {
	if outcome == emr.Created {
		return http.StatusCreated
	}
	return http.StatusOK
}

// checkUpdateID rejects an update whose body has no id, or an id other
// than the one in the URL, with 400, because FHIR R4 requires the two to
// be equal. emr.Service.Update accepts a body without an id, so this
// check belongs to the REST interaction.
func checkUpdateID(typ, id string, body []byte) error {
	members, err := decodeObject(body)
	if err != nil {
		return err
	}
	raw, ok := members["id"]
	if !ok {
		return &httpError{status: http.StatusBadRequest, code: "required", expression: typ + ".id",
			message: typ + ".id is missing: an update must set id to the id in the URL"}
	}
	var bodyID string
	if json.Unmarshal(raw, &bodyID) != nil || bodyID != id {
		return &httpError{status: http.StatusBadRequest, code: "invalid", expression: typ + ".id",
			message: typ + ".id does not match the id in the URL"}
	}
	return nil
}

func (h *handler) delete(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if !emr.ValidID(x.path.id) {
		h.fail(x, invalidID())
		return
	}
	ifMatch, err := parseIfMatch(x.r)
	if err != nil {
		h.fail(x, err)
		return
	}
	res, err := h.svc.Delete(x.ctx, x.path.typ, x.path.id, ifMatch)
	if errors.Is(err, emr.ErrNotFound) && ifMatch > 0 {
		err = fmt.Errorf("delete %s/%s: no current version to match: %w", x.path.typ, x.path.id, emr.ErrVersionMismatch)
	}
	var message string
	switch {
	case errors.Is(err, emr.ErrNotFound):
		// FHIR R4 treats a delete of a resource that does not exist as a
		// success.
		message = fmt.Sprintf("%s/%s does not exist; nothing was deleted", x.path.typ, x.path.id)
	case err != nil:
		h.fail(x, err)
		return
	default:
		setVersionHeaders(x.w.Header(), res)
		message = fmt.Sprintf("deleted %s/%s; the deletion is version %d", x.path.typ, x.path.id, res.VersionID)
	}
	h.writeDeleted(x, message)
}

// writeDeleted ends a delete that succeeded: 204 with no body when the
// client prefers return=minimal, otherwise 200 with an OperationOutcome
// carrying message.
func (h *handler) writeDeleted(x *exchange, message string) {
	if preferReturn(x.r) == "minimal" {
		x.w.WriteHeader(http.StatusNoContent)
		return
	}
	h.writeOutcome(x, http.StatusOK, newOutcome(outcomeIssue{Severity: "information", Code: "informational", Diagnostics: message}))
}

// parseIfMatch returns the version of an If-Match header, 0 when absent.
func parseIfMatch(r *http.Request) (int64, error) {
	value := r.Header.Get("If-Match")
	if value == "" {
		return 0, nil
	}
	version, err := emr.ParseETag(value)
	if err != nil {
		return 0, requestError(http.StatusBadRequest, "invalid", `If-Match must be a version ETag such as W/"3"`)
	}
	return version, nil
}

// writeWritten writes the result of a create, update or patch: Location on
// 201, ETag and Last-Modified, and the body the Prefer header requests (the
// resource by default). action, such as "created" or "updated", starts the
// diagnostics of the return=OperationOutcome body.
func (h *handler) writeWritten(x *exchange, status int, res *emr.Resource, action string) {
	header := x.w.Header()
	if status == http.StatusCreated {
		header.Set("Location", fmt.Sprintf("%s/%s/%s/_history/%d", x.base, res.Type, res.ID, res.VersionID))
	}
	setVersionHeaders(header, res)
	switch preferReturn(x.r) {
	case "minimal":
		x.w.WriteHeader(status)
	case "OperationOutcome":
		message := fmt.Sprintf("%s %s/%s; the current version is %d", action, res.Type, res.ID, res.VersionID)
		h.writeOutcome(x, status, newOutcome(outcomeIssue{Severity: "information", Code: "informational", Diagnostics: message}))
	default:
		h.writeResource(x, status, res)
	}
}
