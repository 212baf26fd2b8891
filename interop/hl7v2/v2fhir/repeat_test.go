package v2fhir_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// repeatedOBX is an ORU^R01 whose two OBX segments have the same OBR,
// OBX-1, OBX-3 and OBX-4, as a lab sends two readings of one test.
var repeatedOBX = message(
	`MSH|^~\&|LIS|LAB|EHR|HOSP|20240310090000-0500||ORU^R01^ORU_R01|REP1|P|2.5.1`,
	`PID|1||700017^^^HOSP^MR||TESTER^NOOR||19850505|F`,
	`OBR|1|PL17^EHR|LAB17^LIS|2345-7^Glucose^LN|||20240310080000-0500|||||||||||||||||F`,
	`OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L^^UCUM|||||F|||20240310080000-0500`,
	`OBX|1|NM|2345-7^Glucose^LN||5.9|mmol/L^^UCUM|||||F|||20240310081500-0500`,
)

func TestConvertRepeatedOBXKeepsBoth(t *testing.T) {
	t.Parallel()
	plan := convert(t, repeatedOBX, v2fhir.Options{})
	observations := resources(t, plan, "Observation")
	require.Len(t, observations, 2, "each OBX gives its own Observation")
	first := observations[0]["identifier"].([]any)[0].(map[string]any)["value"]
	second := observations[1]["identifier"].([]any)[0].(map[string]any)["value"]
	assert.NotEqual(t, first, second)
	assert.Equal(t, "5.4", string(observations[0]["valueQuantity"].(map[string]any)["value"].(json.Number)))
	assert.Equal(t, "5.9", string(observations[1]["valueQuantity"].(map[string]any)["value"].(json.Number)))
	report := resource(t, plan, "DiagnosticReport")
	assert.Len(t, report["result"], 2, "the report lists both results")
}

func TestApplyRepeatedOBX(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := serviceOn(t, db)
		res := applyText(t, svc, repeatedOBX, v2fhir.Options{})
		assert.Equal(t, 4, res.Created, "Patient, two Observations and the DiagnosticReport")
		assert.Len(t, search(t, svc, "Observation", "code=http://loinc.org|2345-7"), 2)

		again := applyText(t, svc, repeatedOBX, v2fhir.Options{})
		assert.Zero(t, again.Created, "a resend finds both Observations")
		assert.Zero(t, again.Updated)
		assert.Len(t, search(t, svc, "Observation", "code=http://loinc.org|2345-7"), 2)
	})
}

func TestConvertRepeatedOrderJoinsReport(t *testing.T) {
	t.Parallel()
	plan := convert(t, message(
		`MSH|^~\&|LIS|LAB|EHR|HOSP|20240310090000-0500||ORU^R01^ORU_R01|REP2|P|2.5.1`,
		`PID|1||700018^^^HOSP^MR||TESTER^OMAR||19850505|M`,
		`OBR|1|PL18^EHR||2345-7^Glucose^LN|||20240310080000-0500`,
		`OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L^^UCUM|||||F`,
		`OBR|2|PL18^EHR||2951-2^Sodium^LN|||20240310080000-0500`,
		`OBX|1|NM|2951-2^Sodium^LN||140|mmol/L^^UCUM|||||F`,
	), v2fhir.Options{})
	report := resource(t, plan, "DiagnosticReport")
	assert.Len(t, report["result"], 2, "the second OBR's result joins the report of its order number")
	assert.Len(t, resources(t, plan, "Observation"), 2)
	require.Len(t, plan.Warnings, 1)
	assert.Equal(t, "OBR(2)-2", plan.Warnings[0].Location())
	assert.Equal(t, v2fhir.CodeDuplicateKey, plan.Warnings[0].Code)
}
