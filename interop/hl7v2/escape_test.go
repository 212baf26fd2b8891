package hl7v2

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const procedureMSH = `MSH|^~\&|ORSYS|HOSP|EHR|HOSP|20240307120000-0500||ADT^A01|CTRL0006|P|2.5`

func TestEscapeSubcomponentAndHexDecoding(t *testing.T) {
	t.Parallel()
	data := crMessage(procedureMSH,
		`PR1|1||29881^KNEE SCOPE \T\ MENISCECTOMY^C4|ARTHROSCOPY \T\ DEBRIDEMENT|20240307120000-0500`,
		`NTE|1||Line feed here:\X0D\\X0A\then a backslash \E\ end`,
	)
	m, err := Parse(data, ParseOptions{})
	require.NoError(t, err)

	assert.Equal(t, "KNEE SCOPE & MENISCECTOMY", m.Get("PR1-3.2"))
	subs := m.Segment("PR1", 1).Field(3).Repetition(1).Component(2).Subcomponents()
	assert.Len(t, subs, 1, "an escaped subcomponent separator does not split")
	assert.Equal(t, "ARTHROSCOPY & DEBRIDEMENT", m.Get("PR1-4"))
	note := "Line feed here:\r\nthen a backslash \\ end"
	assert.Equal(t, note, m.Get("NTE-3"))

	d := m.Delimiters()
	tests := []struct {
		name string
		text string
		raw  string
	}{
		{"subcomponent separator", "KNEE SCOPE & MENISCECTOMY", `KNEE SCOPE \T\ MENISCECTOMY`},
		{"CR LF and backslash", note, `Line feed here:\X0D\\X0A\then a backslash \E\ end`},
		{"all delimiters", `a|b^c~d\e&f`, `a\F\b\S\c\R\d\E\e\T\f`},
		{"non-ASCII kept", "Zoë", "Zoë"},
	}
	for _, tt := range tests {
		got, err := Escape(tt.text, d)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.raw, got, tt.name)
	}

	require.NoError(t, m.Set("NTE-3", note))
	require.NoError(t, m.Set("PR1-3.2", "KNEE SCOPE & MENISCECTOMY"))
	out, err := m.Encode(WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, string(data), string(out))
}

func TestEscapeSequences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		text string
	}{
		{"escape before field end", `ends with \E\`, `ends with \`},
		{"adjacent escapes", `\E\\E\`, `\\`},
		{"decoded once", `\E\T\E\`, `\T\`},
		{"hex several bytes", `\X41420D\`, "AB\r"},
		{"hex UTF-8 in one sequence", `\XC3BC\`, "ü"},
		{"line break", `one\.br\two`, "one\ntwo"},
		{"vertical space", `one\.sp2\two`, "one\n\ntwo"},
		{"highlighting kept out", `\H\bold\N\ text`, "bold text"},
		{"indent command kept out", `\.in+4\text`, "text"},
		{"locally defined kept", `a\Zfoo\b`, `a\Zfoo\b`},
		{"field and component", `a\F\b\S\c\R\d`, `a|b^c~d`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse(crMessage(procedureMSH, "NTE|1||"+tt.raw), ParseOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.text, m.Get("NTE-3"))
		})
	}
}

func TestEscapeInvalidSequences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
	}{
		{"unterminated", `C:\path`},
		{"unknown code", `a\Q\b`},
		{"odd hex digits", `\X0\`},
		{"not hex", `\XZZ\`},
		{"empty sequence", `a\\b`},
		{"character set switch", `\C2842\`},
		{"invalid UTF-8 in hex", `\XC3\\XBC\`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := crMessage(procedureMSH, "NTE|1||"+tt.raw)
			_, err := Parse(data, ParseOptions{})
			require.Error(t, err)
			e := Errors(err)[0]
			assert.Equal(t, KindEscape, e.Kind)
			assert.Equal(t, "NTE", e.SegmentID)
			assert.Equal(t, 2, e.Segment)
			assert.Equal(t, 3, e.Field)
			assert.Equal(t, 1, e.Component)
			assert.Equal(t, len(procedureMSH)+1+len("NTE|1||"), e.Offset-indexOfEscape(tt.raw))

			m, err := Parse(data, ParseOptions{Lenient: true})
			require.NoError(t, err)
			require.NotEmpty(t, m.Warnings())
			assert.Equal(t, KindEscape, m.Warnings()[0].Kind)
			assert.Equal(t, tt.raw, m.Get("NTE-3"), "lenient mode keeps the sequence as sent")
		})
	}
}

func indexOfEscape(raw string) int {
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' {
			return i
		}
	}
	return 0
}

func TestEscapeTruncationCharacter(t *testing.T) {
	t.Parallel()
	d := DefaultDelimiters
	d.Truncation = '#'
	got, err := Escape("Room #5 and more#", d)
	require.NoError(t, err)
	assert.Equal(t, `Room #5 and more\P\`, got)

	m, err := Parse(crMessage(`MSH|^~\&#|A|B|C|D|20240301101500||ADT^A01|X|P|2.7`, `NTE|1||cut\P\`), ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, "cut#", m.Get("NTE-3"))
}

func TestEscapeWithoutEscapeCharacter(t *testing.T) {
	t.Parallel()
	d := Delimiters{Field: '|', Component: '^', Repetition: '~'}
	_, err := Escape("a^b", d)
	require.Error(t, err)
	got, err := Escape("a&b", d)
	require.NoError(t, err)
	assert.Equal(t, "a&b", got, "an unused subcomponent position needs no escape")
}
