package hl7v2

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseFileShortEnvelopeSegments(t *testing.T) {
	t.Parallel()
	inputs := []string{"BHS", "FHS", "BHS\r", "FHS\rBHS\r", "BHS\rMSH|^~\\&|A|B|C|D|20240306111100||ADT^A01|X|P|2.5\rBTS\r"}
	for _, input := range inputs {
		for _, lenient := range []bool{false, true} {
			assert.NotPanics(t, func() {
				_, _ = ParseFile([]byte(input), ParseOptions{Lenient: lenient})
			}, "input %q, lenient %v", input, lenient)
		}
	}
}
