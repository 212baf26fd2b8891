package hl7v2

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var resultSegments = []string{
	`MSH|^~\&#|LIS|LABFAC|HIS|HOSP|20240305101500-0500||ORU^R01^ORU_R01|CTRL0004|P|2.7`,
	`PID|1||500005^^^HOSP^MR||TESTER^DARIO||19900707|M`,
	`OBR|1||SPEC55|2345-7^Glucose^LN`,
	`OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L^^UCUM|3.9-6.1|N|||F|||20240305094500-0500`,
}

func TestHeaderTruncationCharacter(t *testing.T) {
	t.Parallel()
	data := crMessage(resultSegments...)
	m, err := Parse(data, ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, `^~\&#`, m.Get("MSH-2"))
	assert.Equal(t, byte('#'), m.Delimiters().Truncation)
	assert.Equal(t, byte('&'), m.Delimiters().Subcomponent)
	assert.Equal(t, "LIS", m.Get("MSH-3"))
	assert.Equal(t, "ORU^R01^ORU_R01", m.Get("MSH-9"))
	assert.Equal(t, "CTRL0004", m.Get("MSH-10"))
	assert.Equal(t, "2.7", m.Get("MSH-12"))
	assert.Equal(t, "5.4", m.Get("OBX-5"))

	header, err := ParseHeader(data)
	require.NoError(t, err)
	assert.Equal(t, m.Header(), header, "header parse agrees with the full parse")
	assert.Equal(t, `^~\&#`, header.EncodingCharacters)
	assert.Equal(t, "ORU", header.MessageCode)
	assert.Equal(t, "R01", header.TriggerEvent)
	assert.Equal(t, "ORU_R01", header.MessageStructure)

	ack, err := BuildACK(header, AckAccept, nil, time.Date(2024, 3, 5, 10, 16, 0, 0, time.UTC), "ACK0004")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(ack), `MSH|^~\&#|HIS|HOSP|LIS|LABFAC|`))
}

func TestHeaderTruncationCharacterNeedsVersion27(t *testing.T) {
	t.Parallel()
	segments := append([]string{}, resultSegments...)
	segments[0] = strings.Replace(segments[0], "|2.7", "|2.5", 1)
	data := crMessage(segments...)

	m, err := Parse(data, ParseOptions{Lenient: true})
	require.NoError(t, err)
	require.Len(t, m.Warnings(), 1)
	w := m.Warnings()[0]
	assert.Equal(t, KindVersionFeature, w.Kind)
	assert.Equal(t, SeverityWarning, w.Severity)
	assert.Equal(t, 2, w.Field)

	_, err = Parse(data, ParseOptions{})
	require.Error(t, err)
	e := Errors(err)[0]
	assert.Equal(t, KindVersionFeature, e.Kind)
	assert.Equal(t, "MSH", e.SegmentID)
	assert.Equal(t, 2, e.Field)
	assert.Equal(t, 4, e.Offset)
}

func TestHeaderVersionRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		version       string
		lenientErrors bool
		strictErrors  bool
	}{
		{"known", "2.5.1", false, false},
		{"with international code", "2.5.1^USA", false, false},
		{"unknown minor", "2.10", false, true},
		{"not version 2", "1.0", true, true},
		{"not a number", "abc", true, true},
		{"missing", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := crMessage(`MSH|^~\&|A|B|C|D|20240301101500||ADT^A01|X|P|` + tt.version)
			_, err := Parse(data, ParseOptions{Lenient: true})
			assert.Equal(t, tt.lenientErrors, err != nil, "lenient: %v", err)
			_, err = Parse(data, ParseOptions{})
			assert.Equal(t, tt.strictErrors, err != nil, "strict: %v", err)
			if err != nil {
				assert.Equal(t, 12, Errors(err)[0].Field)
			}
		})
	}
}

var scheduleSegments = []string{
	`MSH|^~\&|SCHEDAPP|CLINIC|EHRAPP|HOSP|20240315101010-0500||SIU^S12^SIU_S12|CTRL0013|P|2.5|||AL|NE`,
	`SCH|APT1001|APT1001||||ROUTINE`,
	`PID|1||700007^^^HOSP^MR||TESTER^FINN||19700101|M`,
}

func TestBuildACKFields(t *testing.T) {
	t.Parallel()
	m, err := Parse(crMessage(scheduleSegments...), ParseOptions{})
	require.NoError(t, err)
	now := time.Date(2024, 3, 15, 10, 10, 11, 0, time.FixedZone("", -5*3600))
	errs := []*ParseError{{
		Kind: KindDataType, SegmentID: "PID", Segment: 3, Occurrence: 1, Field: 7, Repetition: 1, Component: 1,
		Offset: 120, Message: "invalid",
	}}
	ack, err := BuildACK(m.Header(), AckError, errs, now, "ACK0013")
	require.NoError(t, err)

	parsed, err := Parse(ack, ParseOptions{})
	require.NoError(t, err, "the ACK parses in strict mode")
	checks := []struct{ path, want string }{
		{"MSH-2", `^~\&`},
		{"MSH-3", "EHRAPP"},
		{"MSH-4", "HOSP"},
		{"MSH-5", "SCHEDAPP"},
		{"MSH-6", "CLINIC"},
		{"MSH-7", "20240315101011-0500"},
		{"MSH-9", "ACK^S12^ACK"},
		{"MSH-10", "ACK0013"},
		{"MSH-11", "P"},
		{"MSH-12", "2.5"},
		{"MSA-1", "AE"},
		{"MSA-2", "CTRL0013"},
		{"ERR-2", "PID^1^7^1^1"},
		{"ERR-3", "102^Data type error^HL70357"},
		{"ERR-4", "E"},
	}
	for _, c := range checks {
		assert.Equal(t, c.want, parsed.Get(c.path), c.path)
	}
	dt, err := parsed.DateTime("MSH-7")
	require.NoError(t, err)
	assert.True(t, dt.HasOffset)

	accept, err := BuildACK(m.Header(), AckAccept, nil, now, "ACK0014")
	require.NoError(t, err)
	assert.NotContains(t, string(accept), "\rERR|")
}

func TestBuildACKShortEncodingCharacters(t *testing.T) {
	t.Parallel()
	data := crMessage(`MSH|^~&|ORDSYS|CLINIC|LIS|LABFAC|20240306111100||ORM^O01|CTRL0005|T|2.3`, `ORC|NW|ORD6001`)
	header, err := ParseHeader(data)
	require.NoError(t, err)
	ack, err := BuildACK(header, AckAccept, nil, time.Date(2024, 3, 6, 11, 12, 0, 0, time.UTC), "ACK0005")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(ack), "MSH|^~&|LIS|LABFAC|ORDSYS|CLINIC|20240306111200+0000||ACK^O01^ACK|ACK0005|T|2.3\r"))
	assert.Contains(t, string(ack), "\rMSA|AA|CTRL0005\r")
}

func TestBuildACKRejectsUnknownCode(t *testing.T) {
	t.Parallel()
	header, err := ParseHeader(crMessage(scheduleSegments...))
	require.NoError(t, err)
	_, err = BuildACK(header, "OK", nil, time.Now(), "X")
	require.Error(t, err)
	_, err = BuildACK(nil, AckAccept, nil, time.Now(), "X")
	require.Error(t, err)
}

func TestParseHeaderAgreesWithParse(t *testing.T) {
	t.Parallel()
	for _, path := range testdataFiles(t) {
		data := readTestdata(t, path)
		m, err := Parse(data, ParseOptions{Lenient: true})
		if err != nil || m == nil {
			continue
		}
		header, err := ParseHeader(data)
		require.NoError(t, err, path)
		assert.Equal(t, m.Header(), header, path)
	}
}

func TestParseHeaderOnBrokenMessage(t *testing.T) {
	t.Parallel()
	data := crMessage(`MSH|^~\&|A|B|C|D|20240301101500||ADT^A01|CTRL9|P|1.0`)
	header, err := ParseHeader(data)
	require.Error(t, err)
	require.NotNil(t, header, "the header is returned so a reject ACK can be addressed")
	assert.Equal(t, "CTRL9", header.ControlID)
	ack, err := BuildACK(header, AckReject, Errors(err), time.Now(), "ACK9")
	require.NoError(t, err)
	assert.Contains(t, string(ack), "\rERR||MSH^1^12|203^Unsupported version id^HL70357|E|||MSH-12 is not an HL7 v2 version\r")

	_, err = ParseHeader([]byte("PID|1\r"))
	require.Error(t, err)
	assert.Equal(t, KindMissingMSH, Errors(err)[0].Kind)
}
