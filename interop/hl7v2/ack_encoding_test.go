package hl7v2

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestACKInvalidEncodingUsesDefaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, encoding string
	}{
		{"repeated character", `^^\&`},
		{"letter", `^~A&`},
		{"too long", `^~\&#*`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := crMessage(
				`MSH|`+tc.encoding+`|LIS|LABFAC|HIS|HOSP|20240305101500-0500||ADT^A01|CTRL0099|P|2.5`,
				`PID|1||500005^^^HOSP^MR`,
			)
			m, err := Parse(data, ParseOptions{})
			require.Error(t, err)
			var located *ParseError
			for _, e := range Errors(err) {
				if e.Kind == KindEncodingCharacters {
					located = e
				}
			}
			require.NotNil(t, located, "an error of kind encoding characters")
			assert.Equal(t, "MSH", located.SegmentID)
			assert.Equal(t, 2, located.Field)

			hdr := m.Header()
			require.NotNil(t, hdr)
			assert.False(t, hdr.ValidEncoding())
			now := time.Date(2024, 3, 5, 10, 16, 0, 0, time.UTC)
			ack, err := BuildACK(hdr, AckReject, []*ParseError{located}, now, "ACK0099")
			require.NoError(t, err)
			segments := strings.Split(strings.TrimSuffix(string(ack), "\r"), "\r")
			require.Len(t, segments, 3)
			assert.True(t, strings.HasPrefix(segments[0], `MSH|^~\&|HIS|HOSP|LIS|LABFAC|`), segments[0])
			assert.Equal(t, "MSA|AR|CTRL0099", segments[1])
			assert.True(t, strings.HasPrefix(segments[2], "ERR||MSH^1^2|"), segments[2])
			assert.Contains(t, segments[2], "^HL70357|E|||", segments[2])

			parsed, err := Parse(ack, ParseOptions{})
			require.NoError(t, err, "the ACK parses with default delimiters")
			assert.Equal(t, "CTRL0099", parsed.Get("MSA-2"))
		})
	}
}

func TestACKEscapesHeaderFieldsWithoutTrust(t *testing.T) {
	t.Parallel()
	hdr := &Header{
		Delimiters:         Delimiters{Field: '|', Component: '#', Repetition: '#'},
		EncodingCharacters: "##",
		SendingApplication: "LAB&CO",
		SendingFacility:    "HOSP",
		ControlID:          "C1",
		VersionID:          "2.5",
	}
	now := time.Date(2024, 3, 5, 10, 16, 0, 0, time.UTC)
	ack, err := BuildACK(hdr, AckReject, nil, now, "A1")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(ack), `MSH|^~\&|||LAB\T\CO|HOSP|`), string(ack))
}

func TestACKValidEncodingKeptAsSent(t *testing.T) {
	t.Parallel()
	hdr, err := ParseHeader(crMessage(`MSH|^~&|A|B|C|D|20240305101500||ADT^A01|X1|P|2.5`))
	require.NoError(t, err)
	assert.True(t, hdr.ValidEncoding())
	ack, err := BuildACK(hdr, AckAccept, nil, time.Date(2024, 3, 5, 10, 16, 0, 0, time.UTC), "A1")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(ack), `MSH|^~&|C|D|A|B|`), string(ack))
}
