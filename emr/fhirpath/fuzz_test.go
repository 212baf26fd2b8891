package fhirpath_test

import (
	"testing"

	"github.com/nexus-health-360/nexus/emr/fhirpath"
)

func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		"Patient.name.given",
		"Observation.subject.where(resolve() is Patient)",
		"(Observation.value.ofType(string)) | (Observation.value.ofType(CodeableConcept)).text",
		"Patient.deceased.exists() and Patient.deceased != false",
		"Bundle.entry[0].resource",
		"Patient.extension('http://example.org').value",
		"Patient.telecom.where(system='phone')",
	} {
		f.Add(seed)
	}
	resource := map[string]any{"resourceType": "Patient", "id": "p1",
		"name": []any{map[string]any{"given": []any{"A", "B"}}}}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := fhirpath.Compile(src)
		if err != nil {
			return
		}
		_, _ = e.Evaluate(resource)
	})
}
