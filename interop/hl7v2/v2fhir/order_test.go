package v2fhir_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// glucoseResult returns an ORU^R01 for order LAB7001 with one glucose
// OBX: control id, MSH-7, OBR-22, OBR-25 and OBX-11 status, and value.
func glucoseResult(control, sent, reported, status, value string) string {
	return message(
		`MSH|^~\&|LIS|LAB|EHR|HOSP|`+sent+`||ORU^R01^ORU_R01|`+control+`|P|2.5.1`,
		`PID|1||700007^^^HOSP^MR||TESTER^LUCA||19850505|M`,
		`OBR|1|PL7001^EHR|LAB7001^LIS|2345-7^Glucose^LN|||20240310080000-0500|||||||||||||||`+reported+`|||`+status,
		`OBX|1|NM|2345-7^Glucose^LN||`+value+`|mmol/L^^UCUM|3.9-6.1||||`+status+`|||20240310080000-0500`,
	)
}

// currentGlucose returns the stored glucose Observation.
func currentGlucose(t *testing.T, svc *emr.Service) (emr.Resource, map[string]any) {
	t.Helper()
	stored := search(t, svc, "Observation", "code=http://loinc.org|2345-7")
	require.Len(t, stored, 1)
	return stored[0], decode(t, stored[0].Body)
}

func TestLateFinalKeepsCorrection(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := serviceOn(t, db)
		final := glucoseResult("C1", "20240310090000-0500", "20240310090000-0500", "F", "5.4")
		corrected := glucoseResult("C2", "20240310110000-0500", "20240310110000-0500", "C", "5.9")
		applyText(t, svc, final, v2fhir.Options{})
		applyText(t, svc, corrected, v2fhir.Options{})

		// The final result resent under a new control id arrives after
		// the correction.
		resent := strings.Replace(final, "|C1|", "|C3|", 1)
		res := applyText(t, svc, resent, v2fhir.Options{})
		assert.Equal(t, 2, res.Late, "the Observation and the DiagnosticReport are late")
		assert.Zero(t, res.Updated)

		obs, body := currentGlucose(t, svc)
		assert.Equal(t, "corrected", body["status"])
		assert.Equal(t, "5.9", decimalValue(t, body))
		assert.Equal(t, 2, versions(t, svc, "Observation", obs.ID), "the late result makes no new version")

		reports := search(t, svc, "DiagnosticReport", "status=corrected")
		assert.Len(t, reports, 1)

		provenances := search(t, svc, "Provenance", "target=Observation/"+obs.ID)
		require.Len(t, provenances, 1, "the late Observation is kept")
		p := decode(t, provenances[0].Body)
		contained := p["contained"].([]any)[0].(map[string]any)
		assert.Equal(t, "Observation", contained["resourceType"])
		assert.Equal(t, "final", contained["status"])
		assert.Equal(t, "5.4", decimalValue(t, contained))
		assert.Equal(t, "2024-03-10T09:00:00-05:00", p["recorded"])
	})
}

func TestNewerResultsReplace(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	applyText(t, svc, glucoseResult("P1", "20240310083000-0500", "20240310083000-0500", "P", "5.0"), v2fhir.Options{})
	res := applyText(t, svc, glucoseResult("F1", "20240310090000-0500", "20240310090000-0500", "F", "5.4"), v2fhir.Options{})
	assert.Zero(t, res.Late)
	_, body := currentGlucose(t, svc)
	assert.Equal(t, "final", body["status"], "final replaces preliminary")

	res = applyText(t, svc, glucoseResult("C1", "20240310100000-0500", "20240310100000-0500", "C", "5.9"), v2fhir.Options{})
	assert.Zero(t, res.Late)
	_, body = currentGlucose(t, svc)
	assert.Equal(t, "corrected", body["status"], "a correction replaces the final")

	res = applyText(t, svc, glucoseResult("C2", "20240310120000-0500", "20240310120000-0500", "C", "6.1"), v2fhir.Options{})
	assert.Zero(t, res.Late)
	_, body = currentGlucose(t, svc)
	assert.Equal(t, "6.1", decimalValue(t, body), "a later correction replaces an earlier one")
}

func TestOlderCorrectionAndPreliminaryLate(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	applyText(t, svc, glucoseResult("C2", "20240310120000-0500", "20240310120000-0500", "C", "6.1"), v2fhir.Options{})

	cases := []struct {
		name, message string
	}{
		{"earlier correction", glucoseResult("C1", "20240310100000-0500", "20240310100000-0500", "C", "5.9")},
		{"preliminary", glucoseResult("P1", "20240310130000-0500", "20240310130000-0500", "P", "5.0")},
		{"earlier final", glucoseResult("F1", "20240310090000-0500", "20240310090000-0500", "F", "5.4")},
	}
	for _, tc := range cases {
		res := applyText(t, svc, tc.message, v2fhir.Options{})
		assert.Equal(t, 2, res.Late, tc.name)
		_, body := currentGlucose(t, svc)
		assert.Equal(t, "6.1", decimalValue(t, body), tc.name)
	}
	obs, _ := currentGlucose(t, svc)
	assert.Len(t, search(t, svc, "Provenance", "target=Observation/"+obs.ID), 3)
}

func TestIdenticalResendNotLate(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	final := glucoseResult("F1", "20240310090000-0500", "20240310090000-0500", "F", "5.4")
	applyText(t, svc, final, v2fhir.Options{})
	res := applyText(t, svc, final, v2fhir.Options{})
	assert.Zero(t, res.Late)
	assert.Zero(t, res.Updated)
	assert.Empty(t, search(t, svc, "Provenance", ""), "an identical resend keeps no copy")
}

func TestEnteredInErrorRetractsFinal(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	applyText(t, svc, glucoseResult("F1", "20240310090000-0500", "20240310090000-0500", "F", "5.4"), v2fhir.Options{})
	res := applyText(t, svc, glucoseResult("W1", "20240310093000-0500", "20240310093000-0500", "W", "5.4"), v2fhir.Options{})
	// W is not in table 0123, so OBR-25 maps to status unknown, and an
	// unknown report never replaces a final one.
	assert.Equal(t, 1, res.Late)
	_, body := currentGlucose(t, svc)
	assert.Equal(t, "entered-in-error", body["status"])
	reports := search(t, svc, "DiagnosticReport", "")
	require.Len(t, reports, 1)
	assert.Equal(t, "final", decode(t, reports[0].Body)["status"])
}

func decimalValue(t *testing.T, observation map[string]any) string {
	t.Helper()
	q, ok := observation["valueQuantity"].(map[string]any)
	require.True(t, ok, "valueQuantity")
	return string(q["value"].(json.Number))
}
