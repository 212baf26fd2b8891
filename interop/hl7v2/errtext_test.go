package hl7v2

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goIdentifier matches a mixed-case word such as ParseFile or
// MaxMessageBytes, which a sender's support staff cannot act on.
var goIdentifier = regexp.MustCompile(`\b[A-Z][a-z]+[A-Z][A-Za-z]*\b`)

// The message of a ParseError reaches the sender in ERR-7, so it names
// the rule in words and, where it can, what the sender should change.
func TestErrorTextForSenders(t *testing.T) {
	t.Parallel()
	second := strings.Replace(admitSegments[0], "CTRL0001", "CTRL0002", 1)
	tests := []struct {
		name     string
		data     []byte
		opts     ParseOptions
		kind     Kind
		wantText string
	}{
		{"batch envelope", crMessage(append([]string{`BHS|^~\&|ADTSYS|HOSP`}, admitSegments...)...), ParseOptions{},
			KindMultipleMessages, "a batch envelope segment (FHS, BHS, BTS or FTS) is not accepted in a single message, " +
				"so send the messages of the batch one by one"},
		{"two messages", crMessage(admitSegments[0], second), ParseOptions{},
			KindMultipleMessages, "the input contains more than one message, so send each message on its own"},
		{"message size", crMessage(admitSegments...), ParseOptions{Limits: Limits{MaxMessageBytes: 50}},
			KindLimit, "the message is 162 bytes, more than the maximum message size of 50 bytes"},
		{"unknown version", crMessage(strings.Replace(admitSegments[0], "|2.3", "|2.99", 1)), ParseOptions{},
			KindVersion, "MSH-12 names an HL7 v2 version that the receiver does not support"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.data, tt.opts)
			require.Error(t, err)
			var texts []string
			for _, e := range Errors(err) {
				assert.Empty(t, goIdentifier.FindString(e.Message), "ERR-7 names Go code: %s", e.Message)
				if e.Kind == tt.kind {
					texts = append(texts, e.Message)
				}
			}
			assert.Contains(t, texts, tt.wantText)
		})
	}
}
