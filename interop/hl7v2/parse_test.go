package hl7v2

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crMessage joins segments with CR terminators, the last one included.
func crMessage(segments ...string) []byte {
	return []byte(strings.Join(segments, "\r") + "\r")
}

func segmentIDs(m *Message) []string {
	var ids []string
	for _, s := range m.Segments() {
		ids = append(ids, s.ID())
	}
	return ids
}

var admitSegments = []string{
	`MSH|^~\&|ADTSYS|MSH|LABSYS|LABFAC|20240301101500||ADT^A01|CTRL0001|P|2.3`,
	`PID|1||100001^^^MSH_MRN^MR~200002^^^MSH_EMPI^CM||TESTER^AVA||19800101|F`,
	`PV1|1|I|W1^101^A`,
}

func TestParseMSHAsDataIsNotMessageStart(t *testing.T) {
	t.Parallel()
	data := crMessage(admitSegments...)
	for _, lenient := range []bool{false, true} {
		m, err := Parse(data, ParseOptions{Lenient: lenient})
		require.NoError(t, err)
		assert.Equal(t, []string{"MSH", "PID", "PV1"}, segmentIDs(m))
		assert.Equal(t, "MSH", m.Get("MSH-4"))
		count, err := m.Count("PID-3")
		require.NoError(t, err)
		assert.Equal(t, 2, count)
		assert.Equal(t, "MSH_EMPI", m.Get("PID-3[2].4"))

		file, err := ParseFile(data, ParseOptions{Lenient: lenient})
		require.NoError(t, err)
		assert.Len(t, file.Messages(), 1)
	}
}

func TestParseTerminators(t *testing.T) {
	t.Parallel()
	body := strings.Join(admitSegments, "\r")
	tests := []struct {
		name        string
		data        string
		strictKinds []Kind
	}{
		{"CRLF", strings.Join(admitSegments, "\r\n") + "\r\n", []Kind{KindSegmentTerminator}},
		{"LF only", strings.Join(admitSegments, "\n") + "\n", []Kind{KindSegmentTerminator}},
		{"CR with trailing CRLFCRLF", body + "\r" + "\r\n\r\n", []Kind{KindSegmentTerminator, KindEmptySegment}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse([]byte(tt.data), ParseOptions{Lenient: true})
			require.NoError(t, err)
			assert.Equal(t, []string{"MSH", "PID", "PV1"}, segmentIDs(m))
			out, err := m.Encode(WriteOptions{})
			require.NoError(t, err)
			assert.Equal(t, string(crMessage(admitSegments...)), string(out))

			_, err = Parse([]byte(tt.data), ParseOptions{})
			require.Error(t, err)
			for _, kind := range tt.strictKinds {
				assert.True(t, Errors(err)[0].Kind == kind || ErrorList(Errors(err)).HasKind(kind), "strict error of kind %v: %v", kind, err)
			}
			assert.Contains(t, err.Error(), "non-CR segment terminator")
		})
	}
}

func TestParseLenientLFInsideCRMessageIsData(t *testing.T) {
	t.Parallel()
	data := crMessage(admitSegments[0], "NTE|1||first line\nsecond line")
	m, err := Parse(data, ParseOptions{Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"MSH", "NTE"}, segmentIDs(m))
	assert.Equal(t, "first line\nsecond line", m.Get("NTE-3"))
}

func TestParseStrictMissingLastTerminator(t *testing.T) {
	t.Parallel()
	data := []byte(strings.Join(admitSegments, "\r"))
	_, err := Parse(data, ParseOptions{})
	require.Error(t, err)
	assert.True(t, ErrorList(Errors(err)).HasKind(KindSegmentTerminator))

	m, err := Parse(data, ParseOptions{Lenient: true})
	require.NoError(t, err)
	assert.Len(t, m.Segments(), 3)
}

func TestParseByteOrderMark(t *testing.T) {
	t.Parallel()
	data := append(append([]byte{}, utf8BOM...), crMessage(admitSegments...)...)
	m, err := Parse(data, ParseOptions{Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, 3, m.MSH().Offset())

	_, err = Parse(data, ParseOptions{})
	require.Error(t, err)
	assert.Equal(t, KindByteOrderMark, Errors(err)[0].Kind)
}

func TestParseSegmentIDRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		segment string
	}{
		{"four characters", "PIDX|1"},
		{"two characters", "PV|1"},
		{"lowercase", "pid|1"},
		{"leading space", " PID|1"},
		{"leading tab", "\tPID|1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, lenient := range []bool{false, true} {
				_, err := Parse(crMessage(admitSegments[0], tt.segment), ParseOptions{Lenient: lenient})
				require.Error(t, err)
				e := Errors(err)[0]
				assert.Equal(t, KindSegmentID, e.Kind)
				assert.Equal(t, 2, e.Segment)
				assert.Equal(t, len(admitSegments[0])+1, e.Offset)
			}
		})
	}
}

func TestParseShortEncodingCharacters(t *testing.T) {
	t.Parallel()
	data := crMessage(
		`MSH|^~&|ORDSYS|CLINIC|LIS|LABFAC|20240306111100||ORM^O01|CTRL0005|T|2.3`,
		`PID|1||600006^^^CLINIC^MR||TESTER^EMIL||19850315|M`,
		`ORC|NW|ORD6001`,
		`OBR|1|ORD6001||CBC^Complete blood count^L`,
	)
	for _, lenient := range []bool{false, true} {
		m, err := Parse(data, ParseOptions{Lenient: lenient})
		require.NoError(t, err)
		d := m.Delimiters()
		assert.Equal(t, byte('^'), d.Component)
		assert.Equal(t, byte('~'), d.Repetition)
		assert.Equal(t, byte('&'), d.Escape, "third position is the escape character")
		assert.Equal(t, byte(0), d.Subcomponent, "missing position is not used")
		assert.Equal(t, byte(0), d.Truncation)
		assert.Equal(t, "^~&", m.Get("MSH-2"))
		assert.Equal(t, "ORDSYS", m.Get("MSH-3"))
		assert.Equal(t, "ORM^O01", m.Get("MSH-9"))
		assert.Equal(t, "CTRL0005", m.Get("MSH-10"))
		assert.Equal(t, "Complete blood count", m.Get("OBR-4.2"))

		out, err := m.Encode(WriteOptions{})
		require.NoError(t, err)
		assert.Equal(t, string(data), string(out))

		require.NoError(t, m.Set("OBR-4.2", "Blood count"))
		out, err = m.Encode(WriteOptions{})
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(out), `MSH|^~&|ORDSYS|`))
		assert.Contains(t, string(out), "OBR|1|ORD6001||CBC^Blood count^L\r")
	}
}

func TestParseEncodingCharacterValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msh  string
	}{
		{"letter", `MSH|^~A&|A|B|C|D|20240301101500||ADT^A01|X|P|2.5`},
		{"repeated", `MSH|^^\&|A|B|C|D|20240301101500||ADT^A01|X|P|2.5`},
		{"six characters", `MSH|^~\&#!|A|B|C|D|20240301101500||ADT^A01|X|P|2.5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(crMessage(tt.msh), ParseOptions{Lenient: true})
			require.Error(t, err)
			e := Errors(err)[0]
			assert.Equal(t, KindEncodingCharacters, e.Kind)
			assert.Equal(t, 2, e.Field)
		})
	}
}

func TestParseEmptyNullAbsent(t *testing.T) {
	t.Parallel()
	data := crMessage(admitSegments[0], `PID|1|~|900009^^^HOSP^MR~~910009^^^STATE^SS||TESTER^HANA||""|F`)
	m, err := Parse(data, ParseOptions{})
	require.NoError(t, err)

	count, err := m.Count("PID-2")
	require.NoError(t, err)
	assert.Equal(t, 2, count, "PID-2 has two empty repetitions")
	for _, rep := range m.Segment("PID", 1).Field(2).Repetitions() {
		assert.Equal(t, "", rep.Raw())
	}

	count, err = m.Count("PID-3")
	require.NoError(t, err)
	assert.Equal(t, 3, count)
	middle, err := m.Lookup("PID-3[2]")
	require.NoError(t, err)
	assert.Equal(t, Empty, middle.State)
	assert.Equal(t, "STATE", m.Get("PID-3[3].4"))

	tests := []struct {
		name  string
		path  string
		state State
	}{
		{"explicit null", "PID-7", Null},
		{"empty field", "PID-4", Empty},
		{"absent field", "PID-30", Absent},
		{"absent segment", "PV1-2", Absent},
		{"absent repetition", "PID-3[4]", Absent},
		{"valued", "PID-8", Valued},
	}
	for _, tt := range tests {
		v, err := m.Lookup(tt.path)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.state, v.State, tt.name)
	}
	assert.True(t, m.Segment("PID", 1).Field(7).IsNull())
	assert.Equal(t, "", m.Get("PID-7"))

	require.NoError(t, m.Set("PID-7", m.Get("PID-7")))
	require.NoError(t, m.SetNull("PID-7"))
	require.NoError(t, m.Set("PID-3[2]", ""))
	out, err := m.Encode(WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, string(data), string(out), "identity edits re-emit the same bytes")
}

func TestParseSetEmptyVersusNull(t *testing.T) {
	t.Parallel()
	m, err := Parse(crMessage(admitSegments...), ParseOptions{})
	require.NoError(t, err)

	require.NoError(t, m.Set("PID-7", ""))
	v, err := m.Lookup("PID-7")
	require.NoError(t, err)
	assert.Equal(t, Empty, v.State)

	require.NoError(t, m.SetNull("PID-8"))
	v, err = m.Lookup("PID-8")
	require.NoError(t, err)
	assert.Equal(t, Null, v.State)

	require.NoError(t, m.Set("PID-9", `""`))
	v, err = m.Lookup("PID-9")
	require.NoError(t, err)
	assert.Equal(t, Valued, v.State, "text of two quotes is not the null")
	assert.Equal(t, `""`, v.Text)

	out, err := m.Encode(WriteOptions{})
	require.NoError(t, err)
	assert.Contains(t, string(out), `PID|1||100001^^^MSH_MRN^MR~200002^^^MSH_EMPI^CM||TESTER^AVA|||""|\X22\"`+"\r")
	again, err := Parse(out, ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, `""`, again.Get("PID-9"))
}

func TestParseSetExtendsStructure(t *testing.T) {
	t.Parallel()
	m, err := Parse(crMessage(admitSegments...), ParseOptions{})
	require.NoError(t, err)
	require.NoError(t, m.Set("PV1-3[2].2.2", "B&C"))
	require.NoError(t, m.Set("PID-5.1", "O'NEIL^X"))
	out, err := m.Encode(WriteOptions{})
	require.NoError(t, err)
	assert.Contains(t, string(out), `PV1|1|I|W1^101^A~^&B\T\C`+"\r")
	assert.Contains(t, string(out), `||O'NEIL\S\X^AVA||`)

	again, err := Parse(out, ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, "B&C", again.Get("PV1-3[2].2.2"))
	assert.Equal(t, "O'NEIL^X", again.Get("PID-5.1"))

	assert.ErrorIs(t, m.Set("OBX-5", "x"), ErrNotFound)
	assert.ErrorIs(t, m.Set("MSH-2", "x"), ErrInvalidPath)
	assert.ErrorIs(t, m.Set("PID-x", "x"), ErrInvalidPath)
}

func TestParseZSegmentsAndOccurrences(t *testing.T) {
	t.Parallel()
	data := crMessage(admitSegments[0],
		`OBX|1|NM|A||1`, `OBX|2|NM|B||2`, `ZPD|1|CUSTOM^X`, `OBX|3|NM|C||3`)
	m, err := Parse(data, ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, "2", m.Get("OBX(2)-5"))
	assert.Equal(t, "3", m.Get("OBX(3)-5"))
	assert.Equal(t, "X", m.Get("ZPD-2.2"))
	count, err := m.Count("OBX")
	require.NoError(t, err)
	assert.Equal(t, 3, count)
	assert.Len(t, m.SegmentsByID("OBX"), 3)
	assert.Nil(t, m.Segment("OBX", 4))
}

func TestParseFileBatches(t *testing.T) {
	t.Parallel()
	second := strings.Replace(admitSegments[0], "CTRL0001", "CTRL0002", 1)
	data := crMessage(
		`FHS|^~\&|ADTSYS|MSH|||20240301101500`,
		`BHS|^~\&|ADTSYS|MSH|||20240301101500`,
		admitSegments[0], admitSegments[1],
		second, `PID|1||3^^^MSH^MR`,
		`BTS|2`,
		`FTS|1`,
	)
	file, err := ParseFile(data, ParseOptions{})
	require.NoError(t, err)
	require.NotNil(t, file.Header)
	require.NotNil(t, file.Trailer)
	require.Len(t, file.Batches, 1)
	assert.Equal(t, "ADTSYS", file.Batches[0].Header.Field(3).Text())
	assert.Equal(t, "2", file.Batches[0].Trailer.Field(1).Text())
	messages := file.Messages()
	require.Len(t, messages, 2)
	assert.Equal(t, "CTRL0001", messages[0].Get("MSH-10"))
	assert.Equal(t, "CTRL0002", messages[1].Get("MSH-10"))
	assert.Equal(t, "MSH", messages[1].Get("PID-3.4"))

	out, err := file.Encode(WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, string(data), string(out))

	_, err = Parse(data, ParseOptions{})
	require.Error(t, err)
	assert.True(t, ErrorList(Errors(err)).HasKind(KindMultipleMessages))
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	long := `NTE|1||` + strings.Repeat("x", 200)
	many := []string{admitSegments[0]}
	for range 20 {
		many = append(many, `NTE|1`)
	}
	tests := []struct {
		name     string
		data     []byte
		limits   Limits
		limit    string
		wantText string
	}{
		{"message size", crMessage(admitSegments...), Limits{MaxMessageBytes: 50}, "MaxMessageBytes",
			"more than the maximum message size of 50 bytes"},
		{"segment count", crMessage(many...), Limits{MaxSegments: 10}, "MaxSegments",
			"more than the maximum of 10 segments"},
		{"field length", crMessage(admitSegments[0], long), Limits{MaxFieldBytes: 100}, "MaxFieldBytes",
			"longer than the maximum field size of 100 bytes"},
		{"error count", crMessage(append([]string{admitSegments[0]}, strings.Repeat("bad\r", 10))...), Limits{MaxErrors: 3}, "MaxErrors",
			"more than 3 problems"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.data, ParseOptions{Lenient: true, Limits: tt.limits})
			require.Error(t, err)
			var found *ParseError
			for _, e := range Errors(err) {
				if e.Kind == KindLimit {
					found = e
				}
			}
			require.NotNil(t, found, "no limit error in %v", err)
			assert.Equal(t, tt.limit, found.Limit)
			assert.Contains(t, found.Message, tt.wantText)
			assert.NotContains(t, found.Message, tt.limit, "ERR-7 names the limit in words, not by its Go field")
		})
	}
}

func TestParseOptionsValidate(t *testing.T) {
	t.Parallel()
	_, err := Parse(nil, ParseOptions{Limits: Limits{MaxSegments: -1}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Limits.MaxSegments")

	o := ParseOptions{}.WithDefaults()
	assert.Equal(t, DefaultMaxMessageBytes, o.Limits.MaxMessageBytes)
	assert.Equal(t, DefaultMaxSegments, o.Limits.MaxSegments)
	assert.Equal(t, DefaultMaxFieldBytes, o.Limits.MaxFieldBytes)
}

func TestParseNoMSH(t *testing.T) {
	t.Parallel()
	for _, data := range []string{"", "\r", "PID|1\r"} {
		_, err := Parse([]byte(data), ParseOptions{Lenient: true})
		require.Error(t, err)
		assert.True(t, ErrorList(Errors(err)).HasKind(KindMissingMSH))
	}
}

func TestParseTreeAccess(t *testing.T) {
	t.Parallel()
	m, err := Parse(crMessage(admitSegments...), ParseOptions{})
	require.NoError(t, err)
	pid := m.Segment("PID", 1)
	require.NotNil(t, pid)
	field := pid.Field(3)
	require.NotNil(t, field)
	assert.Equal(t, "100001^^^MSH_MRN^MR~200002^^^MSH_EMPI^CM", field.Raw())
	reps := field.Repetitions()
	require.Len(t, reps, 2)
	comps := reps[1].Components()
	require.Len(t, comps, 5)
	assert.Equal(t, "MSH_EMPI", comps[3].Text())
	assert.Equal(t, "MSH_EMPI", comps[3].Subcomponent(1).Text())
	assert.Equal(t, "MSH_EMPI", m.Get("PID-3[2].4.1"))
	assert.Equal(t, "|", m.Get("MSH-1"))
	assert.Equal(t, `^~\&`, m.Get("MSH-2"))
	assert.Equal(t, 8, pid.FieldCount())
	assert.Nil(t, pid.Field(9))
	assert.Equal(t, admitSegments[1], pid.Raw())
}
