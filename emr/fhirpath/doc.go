// Package fhirpath compiles and evaluates FHIRPath expressions over FHIR
// resources held as generic JSON trees, the form encoding/json produces with
// Decoder.UseNumber: map[string]any, []any, string, json.Number, bool and
// nil. It exists to run the expressions of FHIR R4 SearchParameter
// definitions, and it covers every expression published with R4 4.0.1.
//
// Supported:
//   - paths with a type name root ("Patient.name", "Resource.id") and the
//     indexer ("name[0]");
//   - choice elements: Observation.value finds valueQuantity and the other
//     value[x] keys, and the node's Type records the suffix;
//   - the operators "|", "=", "!=", "~", "!~", "<", "<=", ">", ">=", "and",
//     "or", "xor", "implies", "in", "contains", "&", "is" and "as";
//   - string, number and boolean literals, "{}", $this, and the variables
//     %resource, %context, %rootResource, %ucum, %sct and %loinc;
//   - the functions where, select, exists, all, empty, not, count, first,
//     last, tail, single, skip, take, distinct, ofType, as, is, resolve,
//     extension, hasValue, children, startsWith, endsWith and contains.
//
// Keys of primitive extensions ("_birthDate") are never returned by path
// navigation, so an element's value is what a path finds.
//
// Concurrency: a compiled *Expression is immutable and safe for concurrent
// use by many goroutines. Evaluate keeps its state per call and does not
// modify the resource.
//
// Known limits:
//   - There is no structure model. Types come from choice suffixes,
//     resourceType and resolve(). Elsewhere Node.TypeName infers them from
//     the element name and the keys of the object, so "is" and ofType() on
//     an element that is not a choice element are a best guess.
//   - resolve() reads the type from the reference string ("Patient/1",
//     "Patient/1/_history/2", an absolute URL ending in Type/id) or finds a
//     contained resource for "#id". It never loads other resources, and it
//     drops "urn:uuid:" references, whose type the string does not give.
//   - Arithmetic (+, -, *, /, div, mod), date and quantity literals as
//     typed values, and the functions not listed above are rejected by
//     Compile. Dates compare as text.
//   - "as" keeps every item of the type instead of raising an error for
//     more than one input item.
package fhirpath
