package fhirpath

import "encoding/json"

// Node is one item of a FHIRPath result collection.
type Node struct {
	// Value is a part of the input tree (map[string]any, string,
	// json.Number or bool), a literal from the expression, or the stand-in
	// object that resolve() returns for a reference to another resource.
	Value any
	// Type is the FHIR type name when the evaluator can tell it: from a choice
	// element suffix (valueQuantity gives "Quantity"), from the resourceType
	// of a resource, or from the reference that resolve() read. It is empty
	// otherwise; TypeName then infers a type.
	Type string
	// Name is the element name the node was reached by, such as "telecom".
	// It is empty for the root resource, literals and function results.
	Name string
	// Parent is the JSON object that holds the element, set for nodes
	// reached by path navigation and nil otherwise. Parent[Key] is the
	// value, or the array that holds it at Index.
	Parent map[string]any
	// Key is the member name in Parent, which for a choice element carries
	// the type suffix (valueQuantity for the element value).
	Key string
	// Index is the position in the array Parent[Key], or -1 when the
	// member is not an array.
	Index int
}

// TypeName returns n.Type when it is set. Otherwise it infers a FHIR type
// name from the element name and the JSON shape of the value, for example
// "ContactPoint" for an element named telecom or "Coding" for an object that
// has only system and code. It returns "" when nothing fits.
func (n Node) TypeName() string {
	if n.Type != "" {
		return n.Type
	}
	switch v := n.Value.(type) {
	case map[string]any:
		if t, ok := complexTypeByName[n.Name]; ok {
			return t
		}
		return shapeType(v)
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if isIntegerLiteral(string(v)) {
			return "integer"
		}
		return "decimal"
	}
	return ""
}
