package emrtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// bloodPressure returns an Observation with systolic and diastolic
// components.
func bloodPressure(systolic, diastolic string) string {
	return `{"resourceType":"Observation","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
		"component":[
			{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
			 "valueQuantity":{"value":` + systolic + `,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
			{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},
			 "valueQuantity":{"value":` + diastolic + `,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`
}

func testSearchFeatures(t *testing.T, newStore NewStore) {
	svc := newService(t, newStore)
	put(t, svc, "Observation", "bp1", bloodPressure("120", "80"))
	put(t, svc, "Observation", "bp2", bloodPressure("150", "70"))
	put(t, svc, "Observation", "weight", `{"resourceType":"Observation","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
		"valueQuantity":{"value":72.5,"system":"http://unitsofmeasure.org","code":"kg"}}`)
	put(t, svc, "Observation", "smoker", `{"resourceType":"Observation","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"72166-2"}]},
		"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"8517006"}]}}`)
	put(t, svc, "Observation", "logical", `{"resourceType":"Observation","status":"final","code":{"text":"x"},
		"subject":{"identifier":{"system":"urn:test:mrn","value":"M-1"}}}`)
	put(t, svc, "Patient", "typed", `{"resourceType":"Patient","identifier":[{"system":"urn:test:mrn","value":"M-1",
		"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]}}],
		"meta":{"tag":[{"system":"urn:test:tag","code":"t1"}],"profile":["http://example.org/StructureDefinition/p"],
			"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}],
			"source":"http://example.org/source#1"}}`)
	put(t, svc, "Patient", "listed", `{"resourceType":"Patient"}`)
	put(t, svc, "List", "l1", `{"resourceType":"List","status":"current","mode":"working",
		"entry":[{"item":{"reference":"Patient/listed"}}]}`)

	const v20203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
	cases := []struct {
		name  string
		typ   string
		query string
		want  []string
	}{
		{name: "component systolic above", typ: "Observation", query: "component-code-value-quantity=http://loinc.org|8480-6$gt130", want: []string{"bp2"}},
		{name: "component diastolic above", typ: "Observation", query: "component-code-value-quantity=http://loinc.org|8462-4$gt75", want: []string{"bp1"}},
		// bp1's diastolic is below 100 but its systolic is not, so the
		// components of two elements must not combine.
		{name: "component same element", typ: "Observation", query: "component-code-value-quantity=http://loinc.org|8480-6$lt100", want: []string{}},
		{name: "component with unit", typ: "Observation",
			query: "component-code-value-quantity=8480-6$120|http://unitsofmeasure.org|mm[Hg]", want: []string{"bp1"}},
		{name: "code value quantity", typ: "Observation", query: "code-value-quantity=http://loinc.org|29463-7$ge70", want: []string{"weight"}},
		{name: "code value quantity miss", typ: "Observation", query: "code-value-quantity=http://loinc.org|29463-7$lt70", want: []string{}},
		{name: "combo matches components", typ: "Observation", query: "combo-code-value-quantity=8462-4$le70", want: []string{"bp2"}},
		{name: "combo matches the value", typ: "Observation", query: "combo-code-value-quantity=29463-7$72.5", want: []string{"weight"}},
		{name: "code value concept", typ: "Observation", query: "code-value-concept=http://loinc.org|72166-2$http://snomed.info/sct|8517006", want: []string{"smoker"}},
		{name: "composite alternatives", typ: "Observation", query: "code-value-quantity=29463-7$1,29463-7$72.5", want: []string{"weight"}},
		{name: "reference identifier", typ: "Observation", query: "subject:identifier=urn:test:mrn|M-1", want: []string{"logical"}},
		{name: "reference identifier other", typ: "Observation", query: "subject:identifier=urn:test:mrn|M-2", want: []string{}},
		{name: "identifier of type", typ: "Patient", query: "identifier:of-type=" + v20203 + "|MR|M-1", want: []string{"typed"}},
		{name: "identifier of other type", typ: "Patient", query: "identifier:of-type=" + v20203 + "|SS|M-1", want: []string{}},
		{name: "identifier of type other value", typ: "Patient", query: "identifier:of-type=" + v20203 + "|MR|m-1", want: []string{}},
		{name: "list", typ: "Patient", query: "_list=l1", want: []string{"listed"}},
		{name: "unknown list", typ: "Patient", query: "_list=nothing", want: []string{}},
		{name: "tag", typ: "Patient", query: "_tag=urn:test:tag|t1", want: []string{"typed"}},
		{name: "profile", typ: "Patient", query: "_profile=http://example.org/StructureDefinition/p", want: []string{"typed"}},
		{name: "security", typ: "Patient", query: "_security=R", want: []string{"typed"}},
		{name: "source", typ: "Patient", query: "_source=http://example.org/source%231", want: []string{"typed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, searchIDs(t, svc, tc.typ, tc.query))
		})
	}

	t.Run("errors", func(t *testing.T) {
		cases := []struct {
			name   string
			typ    string
			query  string
			status int
		}{
			{name: "composite missing component", typ: "Observation", query: "component-code-value-quantity=8480-6", status: 400},
			{name: "composite extra component", typ: "Observation", query: "code-value-quantity=a$1$2", status: 400},
			{name: "composite modifier", typ: "Observation", query: "code-value-quantity:exact=a$1", status: 400},
			{name: "of-type needs three parts", typ: "Patient", query: "identifier:of-type=MR|M-1", status: 400},
			{name: "text unsupported", typ: "Patient", query: "_text=x", status: 400},
			{name: "content unsupported", typ: "Patient", query: "_content=x", status: 400},
			{name: "empty list", typ: "Patient", query: "_list=", status: 400},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				assertSearchFails(t, svc, tc.typ, tc.query, tc.status)
			})
		}
	})
}
