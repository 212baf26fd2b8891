package fhir

import (
	"bytes"
	"mime"
	"net/http"

	"github.com/nexus-health-360/nexus/emr"
)

// jsonPatchType is the media type of an RFC 6902 JSON Patch document.
const jsonPatchType = "application/json-patch+json"

// patch serves PATCH [type]/[id] with a JSON Patch body. If-Match makes
// the patch apply only to that version.
func (h *handler) patch(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if !emr.ValidID(x.path.id) {
		h.fail(x, invalidID())
		return
	}
	if err := checkPatchType(x.r); err != nil {
		h.fail(x, err)
		return
	}
	ifMatch, err := parseIfMatch(x.r)
	if err != nil {
		h.fail(x, err)
		return
	}
	body, err := h.readLimited(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		h.fail(x, malformedBody("the request body is empty: send a JSON Patch as "+jsonPatchType))
		return
	}
	res, err := h.svc.Patch(x.ctx, emr.PatchParams{
		Type: x.path.typ, ID: x.path.id, JSONPatch: body, IfMatch: ifMatch,
	})
	if err != nil {
		h.fail(x, err)
		return
	}
	h.writeWritten(x, http.StatusOK, res, "patched")
}

// checkPatchType rejects a patch body that is not JSON Patch with 415. A
// FHIR JSON body is a FHIRPath Patch Parameters resource, which is not
// supported, and a missing Content-Type cannot be distinguished from it.
func checkPatchType(r *http.Request) error {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && mediaType == jsonPatchType {
		return nil
	}
	message := "unsupported patch format: this server supports only JSON Patch, sent as Content-Type " + jsonPatchType
	if err == nil && jsonTypes[mediaType] {
		message = "FHIRPath Patch is not supported: this server supports only JSON Patch, sent as Content-Type " + jsonPatchType
	}
	return requestError(http.StatusUnsupportedMediaType, "not-supported", message)
}
