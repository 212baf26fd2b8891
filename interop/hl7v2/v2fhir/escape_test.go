package v2fhir_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
)

// TestApplyIdentifierSearchEscapes sends a PID-3 value that holds a FHIR
// search special character next to a stored patient's value. Each message
// must create its own patient and leave the stored one unchanged.
func TestApplyIdentifierSearchEscapes(t *testing.T) {
	cases := []struct {
		name    string
		encoded string // PID-3.1 as encoded in the message
		decoded string
	}{
		{"backslash comma", `ATK\E\,VIC`, `ATK\,VIC`},
		{"comma", `ATK,VIC`, `ATK,VIC`},
		{"backslash", `ATK\E\`, `ATK\`},
		{"bar", `ATK\F\VIC`, `ATK|VIC`},
		{"dollar", `ATK$VIC`, `ATK$VIC`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(t)
			applyText(t, svc, adt("A28", "CTRL0900", `PID|1||VIC^^^HOSP^MR||VICTIM^VERA||19600101|F`), v2fhir.Options{})
			victim := search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|VIC")
			require.Len(t, victim, 1)

			res := applyText(t, svc, adt("A28", "CTRL0901", `PID|1||`+tc.encoded+`^^^HOSP^MR||ATTACKER^ADAM||19900101|M`), v2fhir.Options{})
			assert.Equal(t, 1, res.Created, "the message creates its own patient")
			assert.Zero(t, res.Updated, "no stored patient is updated")

			after := search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|VIC")
			require.Len(t, after, 1)
			assert.Equal(t, victim[0].VersionID, after[0].VersionID, "the stored patient keeps its version")
			assert.Equal(t, "1960-01-01", decode(t, after[0].Body)["birthDate"])

			// The same message again finds the patient it created.
			res = applyText(t, svc, adt("A28", "CTRL0902", `PID|1||`+tc.encoded+`^^^HOSP^MR||ATTACKER^ADAM||19900101|M`), v2fhir.Options{})
			assert.Equal(t, 1, res.Unchanged, "the created patient is found by its value %q", tc.decoded)
		})
	}
}

// TestApplyIdentifierSystemBarEscaped maps an assigning authority to a
// system that holds "|". Its identifier must not match a stored patient
// whose system is the part before the bar.
func TestApplyIdentifierSystemBarEscaped(t *testing.T) {
	svc := newService(t)
	opts := v2fhir.Options{IdentifierSystem: func(authority string) string {
		if authority == "EVIL" {
			return "urn:a|b"
		}
		return "urn:a"
	}}
	applyText(t, svc, adt("A28", "CTRL0910", `PID|1||b\F\c^^^HOSP^MR||VICTIM^VERA||19600101|F`), opts)
	victim := search(t, svc, "Patient", `identifier=urn:a|b\|c`)
	require.Len(t, victim, 1)

	res := applyText(t, svc, adt("A28", "CTRL0911", `PID|1||c^^^EVIL^MR||ATTACKER^ADAM||19900101|M`), opts)
	assert.Equal(t, 1, res.Created)
	assert.Zero(t, res.Updated)
	after := search(t, svc, "Patient", `identifier=urn:a|b\|c`)
	require.Len(t, after, 1)
	assert.Equal(t, victim[0].VersionID, after[0].VersionID)
}
