package v2fhir_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
)

// potassiumResult returns an ORU^R01 with one potassium OBX: control id,
// MSH-7 and OBR-22, OBX-11 status, and OBX-2, OBX-5, OBX-7 and OBX-8.
func potassiumResult(control, sent, status, valueType, value, referenceRange, flag string) string {
	return message(
		`MSH|^~\&|LIS|LAB|EHR|HOSP|`+sent+`||ORU^R01^ORU_R01|`+control+`|P|2.5.1`,
		`PID|1||700017^^^HOSP^MR||TESTER^LUCA||19850505|M`,
		`OBR|1|PL7011^EHR|LAB7011^LIS|2823-3^Potassium^LN|||20240310080000-0500|||||||||||||||`+sent+`|||`+status,
		`OBX|1|`+valueType+`|2823-3^Potassium^LN||`+value+`|mmol/L^^UCUM|`+referenceRange+`|`+flag+`|||`+status+`|||20240310080000-0500`,
	)
}

func TestCorrectionReplacesObservationElements(t *testing.T) {
	cases := []struct {
		name       string
		correction string
		check      func(t *testing.T, o map[string]any)
	}{
		{
			name:       "empty range and flag",
			correction: potassiumResult("K2", "20240310110000-0500", "C", "NM", "4.1", "", ""),
			check: func(t *testing.T, o map[string]any) {
				assert.NotContains(t, o, "referenceRange", "OBX-7 is empty in the correction")
				assert.NotContains(t, o, "interpretation", "OBX-8 is empty in the correction")
				quantity, _ := o["valueQuantity"].(map[string]any)
				assert.Equal(t, json.Number("4.1"), quantity["value"])
			},
		},
		{
			name:       "explicit null range and flag",
			correction: potassiumResult("K2", "20240310110000-0500", "C", "NM", "4.1", `""`, `""`),
			check: func(t *testing.T, o map[string]any) {
				assert.NotContains(t, o, "referenceRange")
				assert.NotContains(t, o, "interpretation")
			},
		},
		{
			name:       "numeric to string",
			correction: potassiumResult("K2", "20240310110000-0500", "C", "ST", "hemolysed", "", ""),
			check: func(t *testing.T, o map[string]any) {
				assert.Equal(t, "hemolysed", o["valueString"])
				assert.NotContains(t, o, "valueQuantity")
			},
		},
		{
			name:       "numeric to unsupported type",
			correction: potassiumResult("K2", "20240310110000-0500", "C", "ED", "^TEXT^^Base64^AAAA", "", ""),
			check: func(t *testing.T, o map[string]any) {
				assert.Contains(t, o, "dataAbsentReason")
				assert.NotContains(t, o, "valueQuantity")
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(t)
			applyText(t, svc, potassiumResult("K1", "20240310090000-0500", "F", "NM", "6.9", "3.5-5.1", "HH"), v2fhir.Options{})
			first := search(t, svc, "Observation", "code=http://loinc.org|2823-3")
			require.Len(t, first, 1)
			stored := decode(t, first[0].Body)
			require.Contains(t, stored, "referenceRange")
			require.Contains(t, stored, "interpretation")

			res := applyText(t, svc, tc.correction, v2fhir.Options{})
			assert.Zero(t, res.Late, "the correction is newer")
			after := search(t, svc, "Observation", "code=http://loinc.org|2823-3")
			require.Len(t, after, 1)
			o := decode(t, after[0].Body)
			assert.Equal(t, "corrected", o["status"])
			tc.check(t, o)
		})
	}
}

func TestPatientDeceasedFlagReplacesDate(t *testing.T) {
	svc := newService(t)
	applyText(t, svc, adt("A08", "CTRL0920", `PID|1||900029^^^HOSP^MR||TESTER^HANA||19700101|F|||||||||||||||||||||20240101120000-0500|Y`), v2fhir.Options{})
	stored := search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|900029")
	require.Len(t, stored, 1)
	require.Contains(t, decode(t, stored[0].Body), "deceasedDateTime")

	res := applyText(t, svc, adt("A08", "CTRL0921", `PID|1||900029^^^HOSP^MR||TESTER^HANA||19700101|F|||||||||||||||||||||""|N`), v2fhir.Options{})
	assert.Equal(t, 1, res.Updated)
	stored = search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|900029")
	require.Len(t, stored, 1)
	patient := decode(t, stored[0].Body)
	assert.Equal(t, false, patient["deceasedBoolean"])
	assert.NotContains(t, patient, "deceasedDateTime")

	// PID-30 N with PID-29 left empty also replaces the stored date.
	applyText(t, svc, adt("A08", "CTRL0922", `PID|1||900029^^^HOSP^MR||TESTER^HANA||19700101|F|||||||||||||||||||||20240101120000-0500|Y`), v2fhir.Options{})
	applyText(t, svc, adt("A08", "CTRL0923", `PID|1||900029^^^HOSP^MR||TESTER^HANA||19700101|F||||||||||||||||||||||N`), v2fhir.Options{})
	stored = search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|900029")
	require.Len(t, stored, 1)
	patient = decode(t, stored[0].Body)
	assert.Equal(t, false, patient["deceasedBoolean"])
	assert.NotContains(t, patient, "deceasedDateTime")
}
