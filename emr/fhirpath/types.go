package fhirpath

import (
	"strings"
)

// choiceSuffixes maps the JSON suffix of a choice element (the part after
// "value" in "valueDateTime") to the FHIR R4 type name. The list is the set
// of types allowed for an open choice element such as Extension.value[x].
var choiceSuffixes = func() map[string]string {
	names := []string{
		"base64Binary", "boolean", "canonical", "code", "date", "dateTime",
		"decimal", "id", "instant", "integer", "markdown", "oid",
		"positiveInt", "string", "time", "unsignedInt", "uri", "url", "uuid",
		"Address", "Age", "Annotation", "Attachment", "CodeableConcept",
		"Coding", "ContactPoint", "Count", "Distance", "Duration",
		"HumanName", "Identifier", "Money", "Period", "Quantity", "Range",
		"Ratio", "Reference", "SampledData", "Signature", "Timing",
		"ContactDetail", "Contributor", "DataRequirement", "Expression",
		"ParameterDefinition", "RelatedArtifact", "TriggerDefinition",
		"UsageContext", "Dosage", "Meta",
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[strings.ToUpper(n[:1])+n[1:]] = n
	}
	return m
}()

// parentTypes lists, for FHIR R4 types that specialize another type, the
// type they specialize, so that "is Quantity" holds for an Age and
// "is string" holds for a code.
var parentTypes = map[string]string{
	"Age":            "Quantity",
	"Count":          "Quantity",
	"Distance":       "Quantity",
	"Duration":       "Quantity",
	"MoneyQuantity":  "Quantity",
	"SimpleQuantity": "Quantity",
	"code":           "string",
	"id":             "string",
	"markdown":       "string",
	"url":            "uri",
	"canonical":      "uri",
	"oid":            "uri",
	"uuid":           "uri",
	"positiveInt":    "integer",
	"unsignedInt":    "integer",
}

// complexTypeByName maps element names whose type is the same wherever they
// occur in FHIR R4 (when the value is an object) to that type.
var complexTypeByName = map[string]string{
	"identifier": "Identifier",
	"telecom":    "ContactPoint",
	"address":    "Address",
	"period":     "Period",
	"coding":     "Coding",
	"meta":       "Meta",
	"extension":  "Extension",
	"text":       "Narrative",
}

// isResourceTypeName reports whether s has the form of a FHIR resource type
// name: an upper case ASCII letter followed by ASCII letters.
func isResourceTypeName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// isTypeOrSubtype reports whether a value of FHIR type have is also of type
// want. Every resource type is a Resource and a DomainResource here.
// NOTE: Bundle, Binary and Parameters are not DomainResources in R4, but are
// treated as such, which only matters for "is DomainResource".
func isTypeOrSubtype(have, want string) bool {
	for t := have; t != ""; t = parentTypes[t] {
		if t == want {
			return true
		}
	}
	if want == "Resource" || want == "DomainResource" {
		_, isDataType := shapeKeys[have]
		return isResourceTypeName(have) && !isDataType && choiceSuffixes[have] == ""
	}
	return false
}

// shapeKeys lists the keys each FHIR R4 data type may have in JSON, besides
// id and extension, for inferring the type of an object whose type is not
// given by a choice suffix or a resourceType.
var shapeKeys = map[string][]string{
	"CodeableConcept": {"coding", "text"},
	"Coding":          {"system", "version", "code", "display", "userSelected"},
	"Reference":       {"reference", "type", "identifier", "display"},
	"Identifier":      {"use", "type", "system", "value", "period", "assigner"},
	"ContactPoint":    {"system", "value", "use", "rank", "period"},
	"HumanName":       {"use", "text", "family", "given", "prefix", "suffix", "period"},
	"Address": {"use", "type", "text", "line", "city", "district", "state",
		"postalCode", "country", "period"},
	"Period":      {"start", "end"},
	"Quantity":    {"value", "comparator", "unit", "system", "code"},
	"Money":       {"value", "currency"},
	"Range":       {"low", "high"},
	"Ratio":       {"numerator", "denominator"},
	"Timing":      {"event", "repeat", "code"},
	"Annotation":  {"authorReference", "authorString", "time", "text"},
	"Narrative":   {"status", "div"},
	"Attachment":  {"contentType", "language", "data", "url", "size", "hash", "title", "creation"},
	"Extension":   {"url"},
	"SampledData": {"origin", "period", "factor", "lowerLimit", "upperLimit", "dimensions", "data"},
}

// shapeOrder is the order in which shapeType tries the types of shapeKeys.
// Where an object fits several types (a bare {"system", "code"} is a valid
// Coding and a valid Quantity), the earlier type wins.
var shapeOrder = []string{
	"CodeableConcept", "Coding", "Reference", "HumanName", "Address", "Period",
	"Quantity", "Money", "ContactPoint", "Identifier", "Range", "Ratio",
	"Timing", "Annotation", "Narrative", "Attachment", "SampledData", "Extension",
}

// contactPointSystems is the ContactPoint.system value set of FHIR R4. An
// object with one of these as system and a value is a ContactPoint rather
// than an Identifier, whose system is a URI.
var contactPointSystems = map[string]bool{
	"phone": true, "fax": true, "email": true, "pager": true, "url": true,
	"sms": true, "other": true,
}

// shapeType infers the FHIR type of a JSON object from its keys, or returns
// "" when no type fits.
func shapeType(m map[string]any) string {
	if rt, ok := m["resourceType"].(string); ok {
		return rt
	}
	if sys, ok := m["system"].(string); ok && contactPointSystems[sys] {
		if _, hasValue := m["value"]; hasValue {
			return "ContactPoint"
		}
	}
	for _, t := range shapeOrder {
		if fitsShape(m, shapeKeys[t]) {
			return t
		}
	}
	return ""
}

// fitsShape reports whether m has at least one key of keys and no key
// outside keys, id, extension and modifierExtension.
func fitsShape(m map[string]any, keys []string) bool {
	found := false
	for k := range m {
		switch k {
		case "id", "extension", "modifierExtension":
			continue
		}
		if !containsString(keys, k) {
			return false
		}
		found = true
	}
	return found
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isIntegerLiteral reports whether a JSON number has no fraction or
// exponent part.
func isIntegerLiteral(s string) bool {
	return !strings.ContainsAny(s, ".eE")
}

// ParseReference splits a FHIR reference string into the resource type, id
// and version it names. It accepts relative references ("Patient/1",
// "Patient/1/_history/2") and absolute URLs whose path ends in the same form
// ("http://example.org/fhir/Patient/1"). It returns ok false for anything
// else, including contained references ("#p1") and "urn:uuid:" URNs, whose
// type cannot be read from the string.
func ParseReference(ref string) (resourceType, id, version string, ok bool) {
	if i := strings.IndexAny(ref, "?#"); i >= 0 {
		return "", "", "", false
	}
	rest := ref
	if i := strings.LastIndex(rest, "/_history/"); i >= 0 {
		version = rest[i+len("/_history/"):]
		rest = rest[:i]
		if !isID(version) {
			return "", "", "", false
		}
	}
	slash := strings.LastIndexByte(rest, '/')
	if slash < 0 {
		return "", "", "", false
	}
	id = rest[slash+1:]
	head := rest[:slash]
	resourceType = head[strings.LastIndexByte(head, '/')+1:]
	if len(head) > len(resourceType) && !strings.Contains(head, "://") {
		// A relative reference has exactly two segments, Type/id.
		return "", "", "", false
	}
	if !isResourceTypeName(resourceType) || !isID(id) {
		return "", "", "", false
	}
	return resourceType, id, version, true
}

// isID reports whether s is a valid FHIR id: 1 to 64 characters from
// A-Z, a-z, 0-9, '-' and '.'.
func isID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}
