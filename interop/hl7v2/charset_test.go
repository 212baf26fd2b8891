package hl7v2

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var greekSegments = []string{
	`MSH|^~\&|ADT|HOSP|EHR|HOSP|20240320100000+0200||ADT^A01|CTRL0020|P|2.5|||||GRC|UNICODE UTF-8`,
	`PID|1||ÜBER-20^^^HOSP^MR||ΠΑΠΑΔΟΠΟΎΛΟΥ^ΕΛΈΝΗ~Müller^Zoë||19810909|F`,
}

func TestCharsetUTF8DecodesIntact(t *testing.T) {
	t.Parallel()
	data := crMessage(greekSegments...)
	m, err := Parse(data, ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, CharsetUTF8, m.Charset())
	assert.Equal(t, "ÜBER-20", m.Get("PID-3.1"))
	assert.Equal(t, "ΠΑΠΑΔΟΠΟΎΛΟΥ", m.Get("PID-5.1"))
	assert.Equal(t, "ΕΛΈΝΗ", m.Get("PID-5.2"))
	assert.Equal(t, "Zoë", m.Get("PID-5[2].2"))

	out, err := m.Encode(WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, string(data), string(out))

	require.NoError(t, m.Set("PID-5[2].1", "Müller-Lüdenscheidt"))
	out, err = m.Encode(WriteOptions{})
	require.NoError(t, err)
	assert.Contains(t, string(out), "Müller-Lüdenscheidt^Zoë")
	assert.NotContains(t, string(out), `\X`)
}

func TestCharsetASCIIOutputUsesHexEscapes(t *testing.T) {
	t.Parallel()
	m, err := Parse(crMessage(greekSegments...), ParseOptions{})
	require.NoError(t, err)
	out, err := m.Encode(WriteOptions{Charset: CharsetASCII})
	require.NoError(t, err)
	for _, b := range out {
		require.Less(t, b, byte(0x80), "ASCII output")
	}
	assert.Contains(t, string(out), `|GRC|ASCII`+"\r")
	assert.Contains(t, string(out), `PID|1||\XC39C\BER-20^^^HOSP^MR||`)
	assert.Contains(t, string(out), `~M\XC3BC\ller^Zo\XC3AB\|`)

	again, err := Parse(out, ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, "ΠΑΠΑΔΟΠΟΎΛΟΥ", again.Get("PID-5.1"))
	assert.Equal(t, "Zoë", again.Get("PID-5[2].2"))
}

func TestCharsetLatin1(t *testing.T) {
	t.Parallel()
	latin1 := crMessage(`MSH|^~\&|A|B|C|D|20240301101500||ADT^A01|X|P|2.5|||||DEU|8859/1`, "PID|1||1^^^H^MR||M\xfcller^J\xf6rg")
	m, err := Parse(latin1, ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, "Müller", m.Get("PID-5.1"))
	assert.Equal(t, "Jörg", m.Get("PID-5.2"))

	require.NoError(t, m.Set("PID-5.2", "Jürgen"))
	out, err := m.Encode(WriteOptions{})
	require.NoError(t, err)
	assert.Contains(t, string(out), "PID|1||1^^^H^MR||M\xfcller^J\xfcrgen\r")

	require.NoError(t, m.Set("PID-5.2", "Ελένη"))
	_, err = m.Encode(WriteOptions{})
	require.Error(t, err, "Greek cannot be written in ISO 8859-1")
	assert.NotContains(t, err.Error(), "Ελένη")

	utf, err := m.Encode(WriteOptions{Charset: CharsetUTF8})
	require.NoError(t, err)
	assert.Contains(t, string(utf), "|UNICODE UTF-8\r")
	assert.Contains(t, string(utf), "Müller^Ελένη")
}

func TestCharsetInvalidBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		charset  string
		segment  string
		fallback *Charset
	}{
		{"UTF-8 in ASCII", "", "PID|1||1^^^H^MR||Zo\xc3\xab", CharsetUTF8},
		{"Latin-1 in UTF-8", "UNICODE UTF-8", "PID|1||1^^^H^MR||Zo\xeb", CharsetLatin1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msh := `MSH|^~\&|A|B|C|D|20240301101500||ADT^A01|X|P|2.5|||||` + "|" + tt.charset
			data := crMessage(msh, tt.segment)
			_, err := Parse(data, ParseOptions{})
			require.Error(t, err)
			e := Errors(err)[0]
			assert.Equal(t, KindCharset, e.Kind)
			assert.Equal(t, 2, e.Segment)
			assert.Equal(t, len(msh)+1+strings.Index(tt.segment, "Zo")+2, e.Offset)

			m, err := Parse(data, ParseOptions{Lenient: true})
			require.NoError(t, err)
			assert.Equal(t, tt.fallback, m.Charset())
			assert.Equal(t, "Zoë", m.Get("PID-5"))
			out, err := m.Encode(WriteOptions{})
			require.NoError(t, err)
			assert.Equal(t, string(data), string(out))
		})
	}
}

func TestCharsetUnsupported(t *testing.T) {
	t.Parallel()
	data := crMessage(`MSH|^~\&|A|B|C|D|20240301101500||ADT^A01|X|P|2.5||||||BIG-5`)
	_, err := Parse(data, ParseOptions{})
	require.Error(t, err)
	assert.Equal(t, 18, Errors(err)[0].Field)
	m, err := Parse(data, ParseOptions{Lenient: true})
	require.NoError(t, err)
	assert.NotEmpty(t, m.Warnings())

	alias := crMessage(`MSH|^~\&|A|B|C|D|20240301101500||ADT^A01|X|P|2.5||||||UTF-8`)
	m, err = Parse(alias, ParseOptions{Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, CharsetUTF8, m.Charset())
}
