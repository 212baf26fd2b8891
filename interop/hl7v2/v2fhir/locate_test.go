package v2fhir_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
)

// TestApplyTwoPatientsLocatedAtPID3 sends a PID-3 whose repetitions name
// two different stored patients. Apply must return a located error with
// HL7 code 205 at PID-3 and no value of the message.
func TestApplyTwoPatientsLocatedAtPID3(t *testing.T) {
	svc := newService(t)
	applyText(t, svc, adt("A28", "CTRL0930", `PID|1||DUP1^^^HOSP^MR||TESTER^ONE||19600101|F`), v2fhir.Options{})
	applyText(t, svc, adt("A28", "CTRL0931", `PID|1||DUP2^^^HOSP^MR||TESTER^TWO||19610101|F`), v2fhir.Options{})

	messages := map[string]string{
		"ADT": adt("A08", "CTRL0932", `PID|1||DUP1^^^HOSP^MR~DUP2^^^HOSP^MR||TESTER^ONE||19600101|F`),
		"ORU": message(
			`MSH|^~\&|LIS|LAB|EHR|HOSP|20240310090000-0500||ORU^R01^ORU_R01|CTRL0933|P|2.5.1`,
			`PID|1||DUP1^^^HOSP^MR~DUP2^^^HOSP^MR||TESTER^ONE||19600101|F`,
			`OBR|1|PL7021^EHR|LAB7021^LIS|2345-7^Glucose^LN|||20240310080000-0500`,
			`OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L^^UCUM|||||F`,
		),
	}
	for name, text := range messages {
		t.Run(name, func(t *testing.T) {
			_, err := v2fhir.Apply(context.Background(), svc, convert(t, text, v2fhir.Options{}))
			require.Error(t, err)
			var located *v2fhir.Error
			require.True(t, errors.As(err, &located), "the error is located: %v", err)
			assert.Equal(t, v2fhir.CodeDuplicateKey, located.Code)
			assert.Equal(t, "PID", located.SegmentID)
			assert.Equal(t, 1, located.Occurrence)
			assert.Equal(t, 3, located.Field)
			assert.True(t, errors.Is(err, emr.ErrPreconditionFailed), "the cause stays in the chain")
			assert.NotContains(t, err.Error(), "DUP1")
			assert.NotContains(t, err.Error(), "DUP2")

			parsed := located.ParseError()
			assert.Equal(t, hl7v2.KindDuplicateKey, parsed.Kind)
			assert.Equal(t, "205", parsed.HL7Code())
		})
	}
}
