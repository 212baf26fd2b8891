package fhir

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/nexus-health-360/nexus/emr"
)

// subsetTag is the meta.tag that FHIR R4 requires on resources with
// elements left out.
var subsetTag = map[string]string{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}

// subset is the reduction applied to a search's resources: _elements,
// _summary=data (everything but the narrative) or _summary=text (the
// narrative, id, meta and the mandatory elements).
type subset struct {
	elements map[string]bool
	noText   bool
	textOnly bool
}

func (s *subset) active() bool { return s != nil && (s.elements != nil || s.noText || s.textOnly) }

// takeSubset removes _elements and _summary=data from params and returns
// them. Other _summary values stay for emr (count and false) or are
// rejected later.
func takeSubset(params url.Values) (*subset, error) {
	s := &subset{}
	if values, ok := params["_elements"]; ok {
		s.elements = map[string]bool{}
		for _, v := range values {
			for _, name := range strings.Split(v, ",") {
				name = strings.TrimSpace(name)
				if name == "" || strings.ContainsAny(name, ".:") {
					return nil, requestError(http.StatusBadRequest, "value", "_elements takes top-level element names, such as name,birthDate")
				}
				s.elements[name] = true
			}
		}
		delete(params, "_elements")
	}
	switch params.Get("_summary") {
	case "data":
		s.noText = true
		delete(params, "_summary")
	case "text":
		s.textOnly = true
		delete(params, "_summary")
	}
	if s.elements != nil && (s.noText || s.textOnly) {
		return nil, requestError(http.StatusBadRequest, "invalid", "_elements and _summary cannot be combined")
	}
	return s, nil
}

// errSummaryTrue is the 400 for _summary=true.
var errSummaryTrue = requestError(http.StatusBadRequest, "not-supported",
	"_summary=true is not supported, because the isSummary flags of the R4 element definitions are not available "+
		"to this server; use _elements, or _summary=text, data, false or (in a search) count")

// takeInstanceSubset reads _elements and _summary of a read, vread or
// history request and returns them with the other query parameters.
// _summary=false selects the whole resource. _summary=true gets 400,
// and so does _summary=count, which only a search serves.
func takeInstanceSubset(query url.Values) (*subset, url.Values, error) {
	rest := url.Values{}
	for name, values := range query {
		rest[name] = values
	}
	cut, err := takeSubset(rest)
	if err != nil {
		return nil, nil, err
	}
	if values, ok := rest["_summary"]; ok {
		for _, v := range values {
			switch v {
			case "false":
			case "true":
				return nil, nil, errSummaryTrue
			case "count":
				return nil, nil, requestError(http.StatusBadRequest, "not-supported", "_summary=count is served by search only")
			default:
				return nil, nil, requestError(http.StatusBadRequest, "not-supported", "_summary must be text, data or false")
			}
		}
		delete(rest, "_summary")
	}
	return cut, rest, nil
}

// subsetResource returns res with its body cut down to the subset, or res
// itself when the subset is empty or res is a deletion.
func (s *subset) subsetResource(res *emr.Resource) (*emr.Resource, error) {
	if !s.active() || res == nil || res.Deleted || len(res.Body) == 0 {
		return res, nil
	}
	body, err := s.apply(res.Body)
	if err != nil {
		return nil, err
	}
	out := *res
	out.Body = body
	return &out, nil
}

// isMandatoryChoice reports whether member is a typed form of a mandatory
// choice element, such as valueQuantity when value[x] is mandatory.
func isMandatoryChoice(mandatory map[string]bool, member string) bool {
	for i := 1; i < len(member); i++ {
		if member[i] >= 'A' && member[i] <= 'Z' && mandatory[member[:i]] {
			return true
		}
	}
	return false
}

// apply returns body cut down to the subset, with the SUBSETTED tag. The
// elements kept are copied byte for byte.
func (s *subset) apply(body []byte) ([]byte, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return nil, err
	}

	var mandatory map[string]bool
	if s.textOnly {
		var typ string
		if err := json.Unmarshal(members["resourceType"], &typ); err != nil {
			return nil, err
		}
		mandatory = map[string]bool{"text": true}
		for _, name := range emr.SummaryTextElements(typ) {
			mandatory[name] = true
		}
	}

	out := map[string]json.RawMessage{}
	for name, value := range members {
		switch {
		case name == "resourceType" || name == "id" || name == "meta":
			out[name] = value
		case s.textOnly:
			if mandatory[strings.TrimPrefix(name, "_")] || isMandatoryChoice(mandatory, name) {
				out[name] = value
			}
		case s.noText && name != "text":
			out[name] = value
		case s.elements[name]:
			out[name] = value
		}
	}

	meta := map[string]json.RawMessage{}
	if raw, ok := out["meta"]; ok {
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, err
		}
	}
	var tags []json.RawMessage
	if raw, ok := meta["tag"]; ok {
		if err := json.Unmarshal(raw, &tags); err != nil {
			return nil, err
		}
	}

	tag, err := json.Marshal(subsetTag)
	if err != nil {
		return nil, err
	}
	meta["tag"], err = json.Marshal(append(tags, tag))
	if err != nil {
		return nil, err
	}
	if out["meta"], err = json.Marshal(meta); err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
