package emr

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"

	jsonpatch "github.com/evanphx/json-patch/v5"
)

// jsonPatchMediaType is the Binary.contentType of a JSON Patch entry.
const jsonPatchMediaType = "application/json-patch+json"

// entryPatch is the body of a PATCH bundle entry: a JSON Patch carried in
// a Binary resource, or a FHIRPath Patch Parameters resource, as FHIR R4
// defines for PATCH in batches and transactions. Exactly one is set.
type entryPatch struct {
	// jsonPatch is the decoded Binary.data, a JSON array of operations.
	jsonPatch []any
	// parameters is the FHIRPath Patch Parameters resource.
	parameters map[string]any
}

// parsePatchEntry checks the resource of the PATCH entry at path and
// returns its patch. The operations are parsed here, so a malformed patch
// fails before anything runs.
func parsePatchEntry(path string, tree map[string]any) (*entryPatch, error) {
	if tree == nil {
		return nil, malformed(path+".resource", "PATCH entry has no resource: send a Binary with a JSON Patch or a Parameters with a FHIRPath Patch")
	}

	switch tree["resourceType"] {
	case "Parameters":
		if _, err := parseFHIRPathPatch(tree); err != nil {
			// Its issue paths start with Parameters, which the REST layer
			// places inside the entry.
			return nil, err
		}
		return &entryPatch{parameters: tree}, nil
	case "Binary":
		contentType, _ := tree["contentType"].(string)
		mediaType, _, err := mime.ParseMediaType(contentType)
		if err != nil || mediaType != jsonPatchMediaType {
			return nil, malformed(path+".resource.contentType", "a Binary PATCH entry needs contentType %s", jsonPatchMediaType)
		}
		data, _ := tree["data"].(string)
		raw, err := base64.StdEncoding.DecodeString(data)
		if err != nil || data == "" {
			return nil, malformed(path+".resource.data", "Binary.data must be the base64 of a JSON Patch")
		}
		var ops []any
		if err := json.Unmarshal(raw, &ops); err != nil {
			return nil, malformed(path+".resource.data", "invalid JSON Patch: Binary.data must contain an array of operations")
		}
		if _, err := jsonpatch.DecodePatch(raw); err != nil {
			return nil, malformed(path+".resource.data", "invalid JSON Patch: Binary.data must contain an array of operations")
		}
		return &entryPatch{jsonPatch: ops}, nil
	}
	return nil, malformed(path+".resource", "a PATCH entry's resource must be a Binary with a JSON Patch or a Parameters with a FHIRPath Patch")
}

// runPatchEntry applies the patch of entry e to its resource in tx.
// References in the patch values to other entries' fullUrls, and
// conditional references, are resolved first, as in the other entries.
func (s *Service) runPatchEntry(ctx context.Context, tx Tx, e *bundleEntry, mapping map[string]string) (*EntryResponse, error) {
	var apply func(map[string]any) error
	switch {
	case e.patch.parameters != nil:
		if err := s.resolveReferences(ctx, tx, e.patch.parameters, mapping); err != nil {
			return nil, err
		}
		ops, err := parseFHIRPathPatch(e.patch.parameters)
		if err != nil {
			return nil, err
		}
		apply = func(tree map[string]any) error { return applyFHIRPathPatch(tree, ops) }
	default:
		holder := map[string]any{"patch": e.patch.jsonPatch}
		if err := s.resolveReferences(ctx, tx, holder, mapping); err != nil {
			return nil, err
		}
		raw, err := json.Marshal(e.patch.jsonPatch)
		if err != nil {
			return nil, fmt.Errorf("patch %s/%s: encode JSON Patch: %w", e.typ, e.id, err)
		}
		patch, err := jsonpatch.DecodePatch(raw)
		if err != nil {
			return nil, malformed("", "invalid JSON Patch: the body must be an array of operations")
		}
		apply = func(tree map[string]any) error { return applyJSONPatch(tree, patch, e.typ, e.id) }
	}

	res, err := s.patchInTx(ctx, tx, e.typ, e.id, e.ifMatch, apply)
	if err != nil {
		return nil, err
	}
	return &EntryResponse{Status: http.StatusOK, Location: location(res), Resource: res}, nil
}

// applyJSONPatch applies patch to tree in place, with the errors of
// Service.Patch: a failed test operation is ErrPreconditionFailed and an
// operation that cannot be applied is invalid.
func applyJSONPatch(tree map[string]any, patch jsonpatch.Patch, typ, id string) error {
	doc, err := json.Marshal(tree)
	if err != nil {
		return fmt.Errorf("patch %s/%s: encode resource: %w", typ, id, err)
	}
	patched, err := patch.Apply(doc)
	if err != nil {
		// The library's message may quote values, so it is not passed on.
		if errors.Is(err, jsonpatch.ErrTestFailed) {
			return fmt.Errorf("patch %s/%s: a test operation failed: %w", typ, id, ErrPreconditionFailed)
		}
		return invalid("", "processing", "the JSON Patch cannot be applied to %s/%s: a path does not exist or an operation is invalid", typ, id)
	}
	out, err := decodeJSON(patched)
	if err != nil {
		return err
	}
	clear(tree)
	for k, v := range out {
		tree[k] = v
	}
	return nil
}
