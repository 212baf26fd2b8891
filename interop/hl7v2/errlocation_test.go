package hl7v2

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseEmptyEncodingCharacters(t *testing.T) {
	t.Parallel()
	data := []byte("MSH||ADT|HOSP|EHR|HOSP|20240301101500||ADT^A01|C1|P|2.5\rPID|1\r")
	for _, lenient := range []bool{false, true} {
		msg, err := Parse(data, ParseOptions{Lenient: lenient})
		require.Error(t, err)
		e := Errors(err)[0]
		assert.Equal(t, KindEncodingCharacters, e.Kind)
		assert.Equal(t, "MSH(1)-2", e.Location())
		require.NotNil(t, msg)
		assert.False(t, msg.Header().ValidEncoding())
	}
}

// TestACKLocatesInvalidSegmentIDs checks ERR-2 for segments whose id is
// not three uppercase letters or digits.
func TestACKLocatesInvalidSegmentIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		segment  string
		location string
	}{
		{"lowercase standard id", "pid|1", "pid^1"},
		{"mixed case standard id", "Pv1|1", "Pv1^1"},
		{"lowercase unknown id", "abc|1", "^2"},
		{"four characters", "PIDX|1", "^2"},
		{"two characters", "PV|1", "^2"},
		{"leading space", " PID|1", "^2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg, err := Parse(crMessage(admitSegments[0], tt.segment), ParseOptions{Lenient: true})
			require.Error(t, err)
			ack, err := BuildACK(msg.Header(), AckError, Errors(err), time.Unix(0, 0), "A1")
			require.NoError(t, err)
			parsed, err := Parse(ack, ParseOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.location, parsed.Get("ERR-2"))
			assert.Equal(t, "100", parsed.Get("ERR-3.1"))
		})
	}
}

func TestACKLocatesWholeMessageAtMSH(t *testing.T) {
	t.Parallel()
	hdr, err := ParseHeader([]byte("MSH|^~\\&|ADT|HOSP|EHR|HOSP|20240301101500||ADT^A01|C1|P|2.5\r"))
	require.NoError(t, err)
	tooLarge := &ParseError{Kind: KindLimit, Limit: "MaxMessageBytes", Offset: 0, Message: "too large"}
	ack, err := BuildACK(hdr, AckReject, []*ParseError{tooLarge}, time.Unix(0, 0), "A1")
	require.NoError(t, err)
	parsed, err := Parse(ack, ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, "MSH^1", parsed.Get("ERR-2"))
	assert.Equal(t, "207", parsed.Get("ERR-3.1"))
}
