package fhirpath_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr/fhirpath"
)

func decode(t testing.TB, src string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	var out map[string]any
	require.NoError(t, dec.Decode(&out))
	return out
}

const patientJSON = `{
  "resourceType": "Patient",
  "id": "p1",
  "meta": {"lastUpdated": "2024-01-02T03:04:05Z", "tag": [{"system": "urn:t", "code": "x"}]},
  "extension": [
    {"url": "http://example.org/birthsex", "valueCode": "F"},
    {"url": "http://example.org/other", "valueString": "o"}
  ],
  "identifier": [{"system": "urn:mrn", "value": "123"}],
  "name": [
    {"family": "Papadopoulou", "given": ["Eleni", "Maria"]},
    {"text": "Nick"}
  ],
  "telecom": [
    {"system": "phone", "value": "555-1"},
    {"system": "email", "value": "a@example.org"},
    {"system": "phone", "value": "555-2"}
  ],
  "birthDate": "1973-06",
  "_birthDate": {"extension": [{"url": "http://example.org/x", "valueString": "ignored"}]},
  "deceasedDateTime": "2020-01-01",
  "generalPractitioner": [
    {"reference": "Practitioner/dr1"},
    {"reference": "http://x/fhir/Organization/o1"},
    {"reference": "Patient/p2/_history/3"},
    {"reference": "urn:uuid:6a1b"},
    {"reference": "#c1"}
  ],
  "contained": [{"resourceType": "RelatedPerson", "id": "c1"}]
}`

const observationJSON = `{
  "resourceType": "Observation",
  "id": "o1",
  "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}], "text": "Body Height"},
  "subject": {"reference": "Patient/p1"},
  "effectiveDateTime": "2012-09-10T15:29:24+02:00",
  "valueQuantity": {"value": 140.0, "unit": "cm", "system": "http://unitsofmeasure.org", "code": "cm"},
  "component": [
    {"code": {"text": "a"}, "valueCodeableConcept": {"text": "yes"}},
    {"code": {"text": "b"}, "valueQuantity": {"value": 5}}
  ]
}`

// values returns the Value of each node.
func values(nodes []fhirpath.Node) []any {
	out := make([]any, len(nodes))
	for i, n := range nodes {
		out[i] = n.Value
	}
	return out
}

func TestEvaluateValues(t *testing.T) {
	t.Parallel()
	patient := decode(t, patientJSON)
	observation := decode(t, observationJSON)
	tests := []struct {
		name     string
		resource map[string]any
		expr     string
		want     []any
	}{
		{"path", patient, "Patient.name.family", []any{"Papadopoulou"}},
		{"array flattening", patient, "Patient.name.given", []any{"Eleni", "Maria"}},
		{"relative path", patient, "name.given", []any{"Eleni", "Maria"}},
		{"Resource root", patient, "Resource.id", []any{"p1"}},
		{"DomainResource root", patient, "DomainResource.id", []any{"p1"}},
		{"other type root", patient, "Observation.id", []any{}},
		{"primitive extension ignored", patient, "Patient.birthDate", []any{"1973-06"}},
		{"indexer", patient, "Patient.name[0].given[1]", []any{"Maria"}},
		{"indexer out of range", patient, "Patient.name[5]", []any{}},
		{"first", patient, "Patient.name.given.first()", []any{"Eleni"}},
		{"where equality", patient, "Patient.telecom.where(system='phone').value", []any{"555-1", "555-2"}},
		{"where not equal", patient, "Patient.telecom.where(system != 'phone').value", []any{"a@example.org"}},
		{"extension function", patient, "Patient.extension('http://example.org/birthsex').value", []any{"F"}},
		{"extension where", patient,
			"Patient.extension.where(url = 'http://example.org/other').value", []any{"o"}},
		{"union", patient, "Patient.name.family | Patient.name.text", []any{"Papadopoulou", "Nick"}},
		{"union removes duplicates", patient, "Patient.id | Patient.id", []any{"p1"}},
		{"exists", patient, "Patient.name.exists()", []any{true}},
		{"exists criteria", patient, "Patient.telecom.exists(system = 'fax')", []any{false}},
		{"empty", patient, "Patient.photo.empty()", []any{true}},
		{"not", patient, "Patient.photo.exists().not()", []any{true}},
		{"deceased", patient, "Patient.deceased.exists() and Patient.deceased != false", []any{true}},
		{"and with empty", patient, "Patient.photo.exists() and {}", []any{false}},
		{"or with empty", patient, "{} or Patient.active", []any{}},
		{"count", patient, "Patient.telecom.count()", []any{json.Number("3")}},
		{"resourceType in contained", patient, "Patient.contained.id", []any{"c1"}},
		{"environment variable", patient, "%resource.id", []any{"p1"}},
		{"string literal escape", patient, `'it\'s'`, []any{"it's"}},
		{"parentheses", patient, "(Patient.name.given).first()", []any{"Eleni"}},
		{"choice element", observation, "Observation.value.unit", []any{"cm"}},
		{"choice ofType", observation, "Observation.value.ofType(Quantity).value", []any{json.Number("140.0")}},
		{"choice ofType mismatch", observation, "Observation.value.ofType(CodeableConcept)", []any{}},
		{"as operator", observation, "(Observation.value as Quantity).code", []any{"cm"}},
		{"as function", observation, "Observation.value.as(Quantity).code", []any{"cm"}},
		{"as qualified type", observation, "Observation.value.as(FHIR.Quantity).code", []any{"cm"}},
		{"is operator", observation, "Observation.value is Quantity", []any{true}},
		{"is function", observation, "Observation.effective.is(dateTime)", []any{true}},
		{"is subtype", observation, "Observation.value is Age", []any{false}},
		{"repeating choice", observation, "Observation.component.value.ofType(Quantity).value",
			[]any{json.Number("5")}},
		{"parenthesized then path", observation,
			"(Observation.component.value.ofType(CodeableConcept)).text", []any{"yes"}},
		{"number equality", observation, "Observation.value.value = 140", []any{true}},
		{"number comparison", observation, "Observation.value.value > 139.5", []any{true}},
		{"concatenation", observation, "Observation.code.text & '!'", []any{"Body Height!"}},
		{"equivalence", observation, "Observation.code.text ~ 'body  height'", []any{true}},
		{"select", observation, "Observation.component.select(code.text)", []any{"a", "b"}},
		{"in", observation, "'cm' in Observation.value.code", []any{true}},
		{"implies", observation, "Observation.value.exists() implies Observation.code.exists()", []any{true}},
		{"startsWith", observation, "Observation.subject.reference.startsWith('Patient/')", []any{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := fhirpath.Compile(tt.expr)
			require.NoError(t, err)
			got, err := e.Evaluate(tt.resource)
			require.NoError(t, err)
			assert.Equal(t, tt.want, values(got))
		})
	}
}

func TestEvaluateResolve(t *testing.T) {
	t.Parallel()
	patient := decode(t, patientJSON)
	tests := []struct {
		name string
		expr string
		want []any
	}{
		{"relative reference", "Patient.generalPractitioner.where(resolve() is Practitioner).reference",
			[]any{"Practitioner/dr1"}},
		{"absolute reference", "Patient.generalPractitioner.where(resolve() is Organization).reference",
			[]any{"http://x/fhir/Organization/o1"}},
		{"versioned reference", "Patient.generalPractitioner.where(resolve() is Patient).reference",
			[]any{"Patient/p2/_history/3"}},
		{"contained reference", "Patient.generalPractitioner.where(resolve() is RelatedPerson).reference",
			[]any{"#c1"}},
		{"resolved id", "Patient.generalPractitioner.resolve().id", []any{"dr1", "o1", "p2", "c1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := fhirpath.MustCompile(tt.expr).Evaluate(patient)
			require.NoError(t, err)
			assert.Equal(t, tt.want, values(got))
		})
	}
}

func TestEvaluateTypes(t *testing.T) {
	t.Parallel()
	patient := decode(t, patientJSON)
	observation := decode(t, observationJSON)
	tests := []struct {
		name     string
		resource map[string]any
		expr     string
		want     []string
	}{
		{"choice suffix", observation, "Observation.value", []string{"Quantity"}},
		{"choice dateTime", observation, "Observation.effective", []string{"dateTime"}},
		{"root resource", patient, "Patient", []string{"Patient"}},
		{"element name", patient, "Patient.telecom.first()", []string{"ContactPoint"}},
		{"identifier", patient, "Patient.identifier", []string{"Identifier"}},
		{"shape CodeableConcept", observation, "Observation.code", []string{"CodeableConcept"}},
		{"shape HumanName", patient, "Patient.name.first()", []string{"HumanName"}},
		{"shape Reference", observation, "Observation.subject", []string{"Reference"}},
		{"resolve", observation, "Observation.subject.resolve()", []string{"Patient"}},
		{"primitive", patient, "Patient.birthDate", []string{"string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := fhirpath.MustCompile(tt.expr).Evaluate(tt.resource)
			require.NoError(t, err)
			types := make([]string, len(got))
			for i, n := range got {
				types[i] = n.TypeName()
			}
			assert.Equal(t, tt.want, types)
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	t.Parallel()
	patient := decode(t, patientJSON)
	tests := []struct {
		name string
		expr string
	}{
		{"where criteria with many items", "Patient.name.where(given)"},
		{"is on many items", "Patient.name is HumanName"},
		{"indexer not integer", "Patient.name['a']"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := fhirpath.MustCompile(tt.expr).Evaluate(patient)
			assert.Error(t, err)
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		expr   string
		offset int
	}{
		{"unbalanced parenthesis", "(Patient.name", 13},
		{"unknown function", "Patient.name.frobnicate()", 13},
		{"arithmetic", "Patient.id + 1", 11},
		{"wrong arity", "Patient.name.first(1)", 13},
		{"unterminated string", "Patient.id = 'x", 13},
		{"trailing token", "Patient.id )", 11},
		{"unknown variable", "%foo.id", 0},
		{"empty", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := fhirpath.Compile(tt.expr)
			var syntaxErr *fhirpath.SyntaxError
			require.ErrorAs(t, err, &syntaxErr)
			assert.Equal(t, tt.offset, syntaxErr.Offset)
		})
	}
}

func TestParseReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                          string
		ref                           string
		wantType, wantID, wantVersion string
		wantOK                        bool
	}{
		{"relative", "Patient/1", "Patient", "1", "", true},
		{"versioned", "Patient/1/_history/2", "Patient", "1", "2", true},
		{"absolute", "http://x/fhir/Patient/1", "Patient", "1", "", true},
		{"absolute versioned", "https://x/Patient/a-b.c/_history/7", "Patient", "a-b.c", "7", true},
		{"contained", "#p1", "", "", "", false},
		{"urn", "urn:uuid:1484a42d-0eaf-4654-9cbf-6b050a5cd73b", "", "", "", false},
		{"lower case type", "patient/1", "", "", "", false},
		{"three segments", "a/Patient/1", "", "", "", false},
		{"query", "Patient?identifier=1", "", "", "", false},
		{"empty id", "Patient/", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			typ, id, version, ok := fhirpath.ParseReference(tt.ref)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.wantType, typ)
			assert.Equal(t, tt.wantID, id)
			assert.Equal(t, tt.wantVersion, version)
		})
	}
}
