package hl7v2_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

func TestErrorsLocateTerminatorAndSegmentLimit(t *testing.T) {
	cases := []struct {
		name       string
		message    string
		limits     hl7v2.Limits
		kind       hl7v2.Kind
		segment    string
		occurrence int
	}{
		{name: "LF terminator in strict mode", kind: hl7v2.KindSegmentTerminator, segment: "MSH", occurrence: 1,
			message: "MSH|^~\\&|A|B|C|D|20240301101500-0500||ADT^A01|X1|P|2.5\nPID|1||1^^^H^MR\n"},
		{name: "too many segments", kind: hl7v2.KindLimit, segment: "NTE", occurrence: 3, limits: hl7v2.Limits{MaxSegments: 3},
			message: "MSH|^~\\&|A|B|C|D|20240301101500-0500||ADT^A01|X2|P|2.5\r" + strings.Repeat("NTE|1\r", 4)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hl7v2.Parse([]byte(tc.message), hl7v2.ParseOptions{Limits: tc.limits})
			require.Error(t, err)
			var found *hl7v2.ParseError
			for _, e := range hl7v2.Errors(err) {
				if e.Kind == tc.kind {
					found = e
				}
			}
			require.NotNil(t, found, "%v", err)
			assert.Equal(t, tc.segment, found.SegmentID)
			assert.Equal(t, tc.occurrence, found.Occurrence)
		})
	}
}

func TestErrorsLocateBatchSegment(t *testing.T) {
	t.Parallel()
	data := "BHS|^~\\&|A\rMSH|^~\\&|A|B|C|D|20240301101500||ADT^A01|X1|P|2.5\rPID|1\rBTS|1\rBTS|1\r"
	_, err := hl7v2.ParseFile([]byte(data), hl7v2.ParseOptions{})
	require.Error(t, err)
	errs := hl7v2.Errors(err)
	require.Len(t, errs, 1)
	assert.Equal(t, hl7v2.KindSegmentSequence, errs[0].Kind)
	assert.Equal(t, "BTS", errs[0].SegmentID)
	assert.Equal(t, 2, errs[0].Occurrence)
}

func TestDateTimeErrorCountsBlankSegments(t *testing.T) {
	t.Parallel()
	data := "MSH|^~\\&|A|B|C|D|20240301101500||ORM^O01|X1|P|2.5\r\rORC|NW|1|||||^^^2024XX\r"
	m, err := hl7v2.Parse([]byte(data), hl7v2.ParseOptions{Lenient: true})
	require.NoError(t, err)
	_, err = m.DateTime("ORC-7.4")
	require.Error(t, err)
	errs := hl7v2.Errors(err)
	require.Len(t, errs, 1)
	assert.Equal(t, "ORC", errs[0].SegmentID)
	assert.Equal(t, 3, errs[0].Segment)
}
