package searchparam_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr/fhirpath"
	"github.com/nexus-health-360/nexus/emr/searchparam"
)

func TestR4CompilesEveryExpression(t *testing.T) {
	t.Parallel()
	reg := searchparam.R4()
	types := reg.ResourceTypes()
	require.Len(t, types, 133)
	count := 0
	for _, resourceType := range types {
		for _, def := range reg.ForType(resourceType) {
			if def.Expression == "" {
				assert.Contains(t, []string{"_text", "_content", "_query"}, def.Code, def.URL)
				continue
			}
			count++
			e, err := fhirpath.Compile(def.Expression)
			require.NoError(t, err, def.URL)
			_, err = e.Evaluate(map[string]any{"resourceType": resourceType})
			assert.NoError(t, err, def.URL)
		}
	}
	assert.Greater(t, count, 1400)
}

func TestR4Lookup(t *testing.T) {
	t.Parallel()
	reg := searchparam.R4()
	tests := []struct {
		name         string
		resourceType string
		code         string
		wantType     searchparam.Type
		wantExpr     string
		wantBase     string
	}{
		{"own parameter", "Patient", "birthdate", searchparam.TypeDate, "Patient.birthDate", "Patient"},
		{"shared expression split", "Condition", "code", searchparam.TypeToken, "Condition.code", "Condition"},
		{"shared parenthesized part", "MedicationRequest", "code", searchparam.TypeToken,
			"(MedicationRequest.medication.ofType(CodeableConcept))", "MedicationRequest"},
		{"shared where part", "Observation", "patient", searchparam.TypeReference,
			"Observation.subject.where(resolve() is Patient)", "Observation"},
		{"two parts for one base", "Observation", "combo-value-quantity", searchparam.TypeQuantity,
			"(Observation.value.ofType(Quantity)) | (Observation.value.ofType(SampledData)) | " +
				"(Observation.component.value.ofType(Quantity)) | (Observation.component.value.ofType(SampledData))",
			"Observation"},
		{"Resource parameter", "Patient", "_id", searchparam.TypeToken, "Resource.id", "Resource"},
		{"Resource parameter on type without own", "Binary", "_lastUpdated", searchparam.TypeDate,
			"Resource.meta.lastUpdated", "Resource"},
		{"DomainResource parameter", "Observation", "_text", searchparam.TypeString, "", "DomainResource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			def, ok := reg.Lookup(tt.resourceType, tt.code)
			require.True(t, ok)
			assert.Equal(t, tt.code, def.Code)
			assert.Equal(t, tt.wantType, def.Type)
			assert.Equal(t, tt.wantExpr, def.Expression)
			assert.Equal(t, tt.wantBase, def.Base)
		})
	}
}

func TestR4LookupMissing(t *testing.T) {
	t.Parallel()
	_, ok := searchparam.R4().Lookup("Patient", "no-such-parameter")
	assert.False(t, ok)
}

func TestR4ReferenceTargetsAndComponents(t *testing.T) {
	t.Parallel()
	reg := searchparam.R4()
	subject, ok := reg.Lookup("Observation", "subject")
	require.True(t, ok)
	assert.Contains(t, subject.Targets, "Patient")
	assert.Contains(t, subject.Targets, "Group")

	composite, ok := reg.Lookup("Observation", "code-value-quantity")
	require.True(t, ok)
	assert.Equal(t, searchparam.TypeComposite, composite.Type)
	require.Len(t, composite.Components, 2)
	assert.Equal(t, "http://hl7.org/fhir/SearchParameter/clinical-code", composite.Components[0].Definition)
	assert.Equal(t, "code", composite.Components[0].Expression)
}

func TestR4ForType(t *testing.T) {
	t.Parallel()
	defs := searchparam.R4().ForType("Patient")
	codes := make([]string, len(defs))
	for i, d := range defs {
		codes[i] = d.Code
	}
	assert.IsIncreasing(t, codes)
	for _, want := range []string{"_id", "_lastUpdated", "_tag", "birthdate", "family", "name", "phone"} {
		assert.Contains(t, codes, want)
	}
	assert.NotContains(t, codes, "code")
}
