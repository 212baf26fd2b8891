package fhir_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// patchPatient is the resource the FHIRPath Patch cases start from.
// Each created copy needs its own identifier systems, because patient
// identifiers are unique; patchPatientN gives them.
const patchPatient = `{"resourceType":"Patient",` +
	`"identifier":[{"system":"urn:oid:1.2.3.N","value":"A1"},{"system":"urn:oid:1.2.4.N","value":"B2"}],` +
	`"active":true,` +
	`"name":[{"use":"official","family":"Testperson","given":["Ada","Bea","Cy"]}],` +
	`"birthDate":"1980-02-03","deceasedBoolean":false}`

// operation builds one FHIRPath Patch operation parameter from its parts,
// each a JSON object text such as {"name":"path","valueString":"Patient"}.
func operation(kind string, parts ...string) string {
	all := append([]string{`{"name":"type","valueCode":"` + kind + `"}`}, parts...)
	return `{"name":"operation","part":[` + strings.Join(all, ",") + `]}`
}

func patchPatientN(n int) string { return strings.ReplaceAll(patchPatient, ".N", "."+itoa(n)) }

func pathPart(p string) string { return `{"name":"path","valueString":` + quote(p) + `}` }
func namePart(n string) string { return `{"name":"name","valueString":"` + n + `"}` }
func intPart(name string, v int) string {
	return `{"name":"` + name + `","valueInteger":` + itoa(v) + `}`
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func itoa(v int) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func parameters(ops ...string) string {
	return `{"resourceType":"Parameters","parameter":[` + strings.Join(ops, ",") + `]}`
}

func TestFHIRPathPatchOperations(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name  string
		ops   []string
		check func(t *testing.T, body map[string]any)
		// unchanged marks a patch that leaves the content as it was, so
		// no version is added.
		unchanged bool
	}{
		{name: "add primitive",
			ops: []string{operation("add", pathPart("Patient"), namePart("gender"), `{"name":"value","valueCode":"female"}`)},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, "female", body["gender"])
			}},
		{name: "add to list",
			ops: []string{operation("add", pathPart("Patient.name[0]"), namePart("given"), `{"name":"value","valueString":"Dee"}`)},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, []any{"Ada", "Bea", "Cy", "Dee"}, at(body, "name", 0, "given"))
			}},
		{name: "add complex value from parts",
			ops: []string{operation("add", pathPart("Patient"), namePart("contact"),
				`{"name":"value","part":[{"name":"name","part":[{"name":"family","valueString":"Kin"},{"name":"given","valueString":"Eve"}]},`+
					`{"name":"gender","valueCode":"female"}]}`)},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, "Kin", at(body, "contact", 0, "name", "family"))
				assert.Equal(t, []any{"Eve"}, at(body, "contact", 0, "name", "given"), "given repeats, so one part makes a list")
				assert.Equal(t, "female", at(body, "contact", 0, "gender"))
			}},
		{name: "add typed complex value",
			ops: []string{operation("add", pathPart("Patient"), namePart("maritalStatus"),
				`{"name":"value","valueCodeableConcept":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M"}]}}`)},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, "M", at(body, "maritalStatus", "coding", 0, "code"))
			}},
		{name: "add extension to resource",
			ops: []string{operation("add", pathPart("Patient"), namePart("extension"),
				`{"name":"value","part":[{"name":"url","valueUri":"http://example.org/fhir/StructureDefinition/x"},{"name":"value","valueString":"y"}]}`)},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, "http://example.org/fhir/StructureDefinition/x", at(body, "extension", 0, "url"))
				assert.Equal(t, "y", at(body, "extension", 0, "valueString"), "the choice part takes its type suffix")
			}},
		{name: "add extension to primitive",
			ops: []string{operation("add", pathPart("Patient.birthDate"), namePart("extension"),
				`{"name":"value","valueExtension":{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1980-02-03T10:00:00Z"}}`)},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, "1980-02-03", body["birthDate"])
				assert.Equal(t, "1980-02-03T10:00:00Z", at(body, "_birthDate", "extension", 0, "valueDateTime"))
			}},
		{name: "insert at index",
			ops: []string{operation("insert", pathPart("Patient.identifier"), intPart("index", 1),
				`{"name":"value","valueIdentifier":{"system":"urn:oid:1.2.5","value":"C3"}}`)},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, "A1", at(body, "identifier", 0, "value"))
				assert.Equal(t, "C3", at(body, "identifier", 1, "value"))
				assert.Equal(t, "B2", at(body, "identifier", 2, "value"))
			}},
		{name: "insert into missing list",
			ops: []string{operation("insert", pathPart("Patient.name[0].prefix"), intPart("index", 0), `{"name":"value","valueString":"Dr"}`)},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, []any{"Dr"}, at(body, "name", 0, "prefix"))
			}},
		{name: "delete list item",
			ops: []string{operation("delete", pathPart("Patient.identifier.where(value = 'A1')"))},
			check: func(t *testing.T, body map[string]any) {
				ids, _ := body["identifier"].([]any)
				require.Len(t, ids, 1)
				assert.Equal(t, "B2", at(body, "identifier", 0, "value"))
			}},
		{name: "delete primitive",
			ops: []string{operation("delete", pathPart("Patient.active"))},
			check: func(t *testing.T, body map[string]any) {
				assert.NotContains(t, body, "active")
			}},
		{name: "delete nothing", unchanged: true,
			ops: []string{operation("delete", pathPart("Patient.gender"))},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, "1980-02-03", body["birthDate"])
			}},
		{name: "delete last item drops the list",
			ops: []string{
				operation("delete", pathPart("Patient.identifier[1]")),
				operation("delete", pathPart("Patient.identifier[0]")),
			},
			check: func(t *testing.T, body map[string]any) {
				assert.NotContains(t, body, "identifier")
			}},
		{name: "replace primitive",
			ops: []string{operation("replace", pathPart("Patient.birthDate"), `{"name":"value","valueDate":"1981-04-05"}`)},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, "1981-04-05", body["birthDate"])
			}},
		{name: "replace list item",
			ops: []string{operation("replace", pathPart("Patient.name[0].given[1]"), `{"name":"value","valueString":"Bo"}`)},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, []any{"Ada", "Bo", "Cy"}, at(body, "name", 0, "given"))
			}},
		{name: "replace choice with another type",
			ops: []string{operation("replace", pathPart("Patient.deceased"), `{"name":"value","valueDateTime":"2020-01-01"}`)},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, "2020-01-01", body["deceasedDateTime"])
				assert.NotContains(t, body, "deceasedBoolean")
			}},
		{name: "replace complex",
			ops: []string{operation("replace", pathPart("Patient.identifier[0]"),
				`{"name":"value","part":[{"name":"system","valueUri":"urn:oid:9"},{"name":"value","valueString":"Z9"}]}`)},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, map[string]any{"system": "urn:oid:9", "value": "Z9"}, at(body, "identifier", 0))
			}},
		{name: "move",
			ops: []string{operation("move", pathPart("Patient.name[0].given"), intPart("source", 2), intPart("destination", 0))},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, []any{"Cy", "Ada", "Bea"}, at(body, "name", 0, "given"))
			}},
		{name: "operations in order",
			ops: []string{
				operation("add", pathPart("Patient"), namePart("gender"), `{"name":"value","valueCode":"other"}`),
				operation("replace", pathPart("Patient.gender"), `{"name":"value","valueCode":"male"}`),
			},
			check: func(t *testing.T, body map[string]any) {
				assert.Equal(t, "male", body["gender"])
			}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := s.create("Patient", patchPatientN(i))
			resp := s.do(http.MethodPatch, "/Patient/"+id, parameters(tt.ops...), "Content-Type", "application/fhir+json")
			require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
			version := `W/"2"`
			if tt.unchanged {
				version = `W/"1"`
			}
			assert.Equal(t, version, resp.header.Get("ETag"))
			body := resp.json(t)
			assert.Equal(t, id, body["id"])
			tt.check(t, body)

			read := s.do(http.MethodGet, "/Patient/"+id, "")
			assert.Equal(t, resp.body, read.body, "the patched version is stored")
		})
	}
}

func TestFHIRPathPatchPrimitiveExtensionsStayAligned(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", `{"resourceType":"Patient","name":[{"given":["Ada","Bea"],`+
		`"_given":[null,{"extension":[{"url":"http://example.org/x","valueString":"y"}]}]}]}`)
	ops := parameters(
		operation("insert", pathPart("Patient.name.given"), intPart("index", 0), `{"name":"value","valueString":"Al"}`),
		operation("move", pathPart("Patient.name.given"), intPart("source", 2), intPart("destination", 0)),
	)
	resp := s.do(http.MethodPatch, "/Patient/"+id, ops, "Content-Type", "application/fhir+json")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	body := resp.json(t)
	assert.Equal(t, []any{"Bea", "Al", "Ada"}, at(body, "name", 0, "given"))
	assert.Equal(t, "y", at(body, "name", 0, "_given", 0, "extension", 0, "valueString"), "the extension moved with Bea")
	assert.Nil(t, at(body, "name", 0, "_given", 1))
}

func TestFHIRPathPatchIfMatch(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patchPatientN(100))
	ops := parameters(operation("delete", pathPart("Patient.active")))

	stale := s.do(http.MethodPatch, "/Patient/"+id, ops, "Content-Type", "application/fhir+json", "If-Match", `W/"4"`)
	require.Equal(t, http.StatusPreconditionFailed, stale.status, "%s", stale.body)

	current := s.do(http.MethodPatch, "/Patient/"+id, ops, "Content-Type", "application/fhir+json", "If-Match", `W/"1"`)
	require.Equal(t, http.StatusOK, current.status, "%s", current.body)
	assert.Equal(t, `W/"2"`, current.header.Get("ETag"))
}

func TestFHIRPathPatchErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patchPatientN(101))
	fhirJSON := []string{"Content-Type", "application/fhir+json"}
	tests := []struct {
		name     string
		body     string
		status   int
		code     string
		location string
	}{
		{name: "not parameters", body: patchPatient, status: 400},
		{name: "no operations", body: `{"resourceType":"Parameters","id":"x"}`, status: 400},
		{name: "unknown type",
			body: parameters(operation("merge", pathPart("Patient"))), status: 400},
		{name: "missing value",
			body: parameters(operation("replace", pathPart("Patient.birthDate"))), status: 400},
		{name: "invalid fhirpath",
			body: parameters(operation("delete", pathPart("Patient.name["))), status: 400},
		{name: "replace selects nothing",
			body:   parameters(operation("replace", pathPart("Patient.gender"), `{"name":"value","valueCode":"male"}`)),
			status: 422, code: "not-found", location: "Parameters.parameter[0]"},
		{name: "replace selects several",
			body:   parameters(operation("replace", pathPart("Patient.identifier"), `{"name":"value","valueIdentifier":{"value":"x"}}`)),
			status: 422, code: "multiple-matches", location: "Parameters.parameter[0]"},
		{name: "second operation fails",
			body: parameters(
				operation("delete", pathPart("Patient.active")),
				operation("delete", pathPart("Patient.name.given")),
			),
			status: 422, code: "multiple-matches", location: "Parameters.parameter[1]"},
		{name: "add unknown element",
			body:   parameters(operation("add", pathPart("Patient"), namePart("colour"), `{"name":"value","valueString":"x"}`)),
			status: 422, code: "invalid", location: "Parameters.parameter[0]"},
		{name: "add to singleton with a value",
			body:   parameters(operation("add", pathPart("Patient"), namePart("birthDate"), `{"name":"value","valueDate":"1990-01-01"}`)),
			status: 422, code: "invalid", location: "Parameters.parameter[0]"},
		{name: "insert past the end",
			body:   parameters(operation("insert", pathPart("Patient.identifier"), intPart("index", 5), `{"name":"value","valueIdentifier":{"value":"x"}}`)),
			status: 422, code: "invalid", location: "Parameters.parameter[0]"},
		{name: "move out of range",
			body:   parameters(operation("move", pathPart("Patient.identifier"), intPart("source", 0), intPart("destination", 2))),
			status: 422, code: "invalid", location: "Parameters.parameter[0]"},
		{name: "invalid value",
			body:   parameters(operation("replace", pathPart("Patient.birthDate"), `{"name":"value","valueDate":"soon"}`)),
			status: 422},
		{name: "changes id",
			body:   parameters(operation("replace", pathPart("Patient.id"), `{"name":"value","valueId":"other"}`)),
			status: 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodPatch, "/Patient/"+id, tt.body, fhirJSON...)
			require.Equal(t, tt.status, resp.status, "%s", resp.body)
			first := issue(t, resp.json(t))
			assert.Equal(t, "error", first["severity"])
			assert.NotEmpty(t, first["diagnostics"])
			if tt.code != "" {
				assert.Equal(t, tt.code, first["code"])
			}
			if tt.location != "" {
				assert.Equal(t, []any{tt.location}, first["expression"])
			}
		})
	}
	read := s.do(http.MethodGet, "/Patient/"+id, "")
	assert.Equal(t, `W/"1"`, read.header.Get("ETag"), "no failed patch stored a version")
}

func TestFHIRPathPatchHidesLiterals(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patchPatientN(102))
	body := parameters(operation("replace", pathPart("Patient.name.where(family = 'Testperson').given"),
		`{"name":"value","valueString":"x"}`))
	resp := s.do(http.MethodPatch, "/Patient/"+id, body, "Content-Type", "application/fhir+json")
	require.Equal(t, http.StatusUnprocessableEntity, resp.status, "%s", resp.body)
	assert.NotContains(t, string(resp.body), "Testperson")
	assert.Contains(t, issue(t, resp.json(t))["diagnostics"], "where(family = '...')")
}

func TestCapabilityPatchFormats(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	resp := s.do(http.MethodGet, "/metadata", "")
	require.Equal(t, http.StatusOK, resp.status)
	assert.Equal(t, []any{"application/json-patch+json", "application/fhir+json"}, resp.json(t)["patchFormat"])
}
