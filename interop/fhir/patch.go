package fhir

import (
	"bytes"
	"context"
	"mime"
	"net/http"

	"github.com/nexus-health-360/nexus/emr"
)

// jsonPatchType is the media type of an RFC 6902 JSON Patch document.
const jsonPatchType = "application/json-patch+json"

// patch serves PATCH [type]/[id] with a JSON Patch body, or a FHIRPath
// Patch (a Parameters resource) sent as FHIR JSON. If-Match makes the
// patch apply only to that version.
func (h *handler) patch(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if !emr.ValidID(x.path.id) {
		h.fail(x, invalidID())
		return
	}

	format, err := patchFormat(x.r)
	if err != nil {
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
		h.fail(x, malformedBody("the request body is empty: send a JSON Patch as "+jsonPatchType+
			" or a FHIRPath Patch Parameters resource as "+fhirJSONType))
		return
	}

	var res *emr.Resource
	if format == fhirPathPatch {
		patcher, ok := h.svc.(fhirPathPatcher)
		if !ok {
			h.fail(x, requestError(http.StatusUnsupportedMediaType, "not-supported",
				"FHIRPath Patch is not supported by this service: send a JSON Patch as Content-Type "+jsonPatchType))
			return
		}
		res, err = patcher.FHIRPathPatch(x.ctx, emr.FHIRPathPatchParams{
			Type: x.path.typ, ID: x.path.id, Parameters: body, IfMatch: ifMatch,
		})
	} else {
		res, err = h.svc.Patch(x.ctx, emr.PatchParams{
			Type: x.path.typ, ID: x.path.id, JSONPatch: body, IfMatch: ifMatch,
		})
	}

	if err != nil {
		h.fail(x, err)
		return
	}
	h.writeWritten(x, http.StatusOK, res, "patched")
}

// fhirPathPatcher is the optional capability of a Service to apply a
// FHIRPath Patch. *emr.Service has it.
type fhirPathPatcher interface {
	FHIRPathPatch(ctx context.Context, p emr.FHIRPathPatchParams) (*emr.Resource, error)
}

var _ fhirPathPatcher = (*emr.Service)(nil)

// fhirJSONType is the media type of FHIR JSON, which carries a FHIRPath
// Patch.
const fhirJSONType = "application/fhir+json"

// patchKind is the format of a PATCH body.
type patchKind int

const (
	jsonPatch patchKind = iota
	fhirPathPatch
)

// patchFormat picks the patch format from Content-Type: JSON Patch for
// application/json-patch+json, FHIRPath Patch for the FHIR JSON types.
// Others, and a missing Content-Type, get 415.
func patchFormat(r *http.Request) (patchKind, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err == nil && mediaType == jsonPatchType:
		return jsonPatch, nil
	case err == nil && jsonTypes[mediaType]:
		return fhirPathPatch, nil
	}
	return 0, requestError(http.StatusUnsupportedMediaType, "not-supported",
		"unsupported patch format: send a JSON Patch as Content-Type "+jsonPatchType+
			" or a FHIRPath Patch Parameters resource as "+fhirJSONType)
}
