package v2fhir_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
)

func TestConvertTableValues(t *testing.T) {
	t.Parallel()
	const oru = `MSH|^~\&|LIS|LAB|EHR|HOSP|20240310090000-0500||ORU^R01^ORU_R01|TAB1|P|2.5.1`
	const pid = `PID|1||700019^^^HOSP^MR||TESTER^PIA||19850505|F`
	const obr = `OBR|1||LAB19^LIS|2345-7^Glucose^LN|||20240310080000-0500`
	tests := []struct {
		name     string
		segments []string
		// location is the located error, "" when the message converts.
		location string
	}{
		{"sex outside table 0001", []string{
			`MSH|^~\&|ADT|HOSP|EHR|HOSP|20240307130000-0500||ADT^A28|TAB2|P|2.5`,
			`PID|1||700020^^^HOSP^MR||TESTER^HANA||19700101|Q`}, "PID-8"},
		{"value type outside table 0125", []string{oru, pid, obr,
			`OBX|1|QQ|2345-7^Glucose^LN||5.4|mmol/L^^UCUM|||||F`}, "OBX-2"},
		{"status outside table 0085", []string{oru, pid, obr,
			`OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L^^UCUM|||||F`,
			`OBX|2|NM|2345-7^Glucose^LN||5.4|mmol/L^^UCUM|||||Q`}, "OBX(2)-11"},
		{"value type of table 0125 without a mapping", []string{oru, pid, obr,
			`OBX|1|TM|2345-7^Glucose^LN||0800|||||F`}, ""},
		{"unknown patient class keeps class U", []string{
			`MSH|^~\&|ADT|HOSP|EHR|HOSP|20240307130000-0500||ADT^A01|TAB3|P|2.5`,
			`PID|1||700021^^^HOSP^MR||TESTER^IDA||19700101|F`,
			`PV1|1|Q|W1^101`}, ""},
		{"report status outside table 0123", []string{oru, pid,
			`OBR|1||LAB19^LIS|2345-7^Glucose^LN|||20240310080000-0500|||||||||||||||||W`,
			`OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L^^UCUM|||||F`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := v2fhir.Convert(parse(t, message(tt.segments...)), v2fhir.Options{})
			if tt.location == "" {
				assert.NoError(t, err)
				return
			}
			var list v2fhir.ErrorList
			require.True(t, errors.As(err, &list), "error %v", err)
			require.Len(t, list, 1)
			assert.Equal(t, tt.location, list[0].Location())
			assert.Equal(t, v2fhir.CodeTableValue, list[0].Code)
			assert.Equal(t, "103", list[0].ParseError().HL7Code())
		})
	}
}
