package fhir

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/nexus-health-360/nexus/emr"
)

// validateRequest is the input of $validate: the resource and the
// validation mode, "" when not given.
type validateRequest struct {
	resource []byte
	mode     string
}

// validate serves POST [type]/$validate and POST [type]/[id]/$validate.
// The result is 200 with an OperationOutcome, whether or not the resource
// is valid. Only a request that cannot be validated, such as a body that
// is not JSON, gets a 4xx.
func (h *handler) validate(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if x.path.id != "" && !emr.ValidID(x.path.id) {
		h.fail(x, invalidID())
		return
	}
	body, err := h.readResourceBody(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	req, err := parseValidateBody(x.path.typ, body)
	if err != nil {
		h.fail(x, err)
		return
	}

	var issues []outcomeIssue
	if err := h.svc.Validate(x.path.typ, req.resource); err != nil {
		if !errors.Is(err, emr.ErrInvalid) {
			h.fail(x, err)
			return
		}
		issues = outcomeOf(err, -1, x.requestID).Issue
	}
	if req.mode == "update" {
		issues = append(issues, checkValidateID(x.path.typ, x.path.id, req.resource)...)
	}
	if len(issues) == 0 {
		issues = []outcomeIssue{{Severity: "information", Code: "informational", Diagnostics: "validation found no issues"}}
	}
	h.writeOutcome(x, http.StatusOK, newOutcome(issues...))
}

// parseValidateBody returns the resource to validate: the body itself, or
// the resource parameter of a Parameters body. A Parameters body validated
// as type Parameters is taken as the input of the operation only when it
// has a resource parameter.
func parseValidateBody(typ string, body []byte) (validateRequest, error) {
	members, err := decodeObject(body)
	if err != nil {
		return validateRequest{}, err
	}
	var resourceType string
	_ = json.Unmarshal(members["resourceType"], &resourceType)
	if resourceType != "Parameters" {
		return validateRequest{resource: body}, nil
	}
	var params struct {
		Parameter []struct {
			Name      string          `json:"name"`
			Resource  json.RawMessage `json:"resource"`
			ValueCode string          `json:"valueCode"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(body, &params); err != nil {
		if typ == "Parameters" {
			return validateRequest{resource: body}, nil
		}
		return validateRequest{}, malformedBody("invalid Parameters: parameter must be an array of objects with a name")
	}

	var req validateRequest
	for _, p := range params.Parameter {
		switch p.Name {
		case "resource":
			if req.resource != nil || len(p.Resource) == 0 {
				return validateRequest{}, requestError(http.StatusBadRequest, "invalid",
					"the $validate resource parameter must occur once and carry a resource")
			}
			req.resource = p.Resource
		case "mode":
			if p.ValueCode != "create" && p.ValueCode != "update" {
				return validateRequest{}, requestError(http.StatusBadRequest, "not-supported",
					"the $validate mode must be create or update; delete and profile modes are not supported")
			}
			req.mode = p.ValueCode
		case "profile":
			return validateRequest{}, requestError(http.StatusBadRequest, "not-supported",
				"the $validate profile parameter is not supported; resources are validated against the base FHIR R4 definitions")
		default:
			if typ == "Parameters" {
				continue // an ordinary Parameters resource to validate
			}
			return validateRequest{}, requestError(http.StatusBadRequest, "not-supported",
				"$validate has no parameter "+p.Name+"; send resource and optionally mode")
		}
	}
	if req.resource == nil {
		if typ == "Parameters" {
			return validateRequest{resource: body}, nil
		}
		return validateRequest{}, requestError(http.StatusBadRequest, "required",
			"a Parameters body for $validate needs a resource parameter with the resource to validate")
	}
	return req, nil
}

// checkValidateID returns the issue of mode update: the resource must have
// an id, and on an instance the id of the URL.
func checkValidateID(typ, pathID string, resource []byte) []outcomeIssue {
	var r struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(resource, &r) // Validate has parsed it already
	switch {
	case r.ID == "":
		return []outcomeIssue{{Severity: "error", Code: "required", Expression: []string{typ + ".id"},
			Diagnostics: typ + ".id is missing: an update needs the id of the resource"}}
	case pathID != "" && r.ID != pathID:
		return []outcomeIssue{{Severity: "error", Code: "invalid", Expression: []string{typ + ".id"},
			Diagnostics: typ + ".id does not match the id in the URL"}}
	}
	return nil
}
