package hl7v2

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Charset is a character set that MSH-18 can name and this package can
// decode and encode. Every supported set is ASCII-compatible, so the
// delimiters and the CR terminator are found in the raw bytes before
// decoding.
type Charset struct {
	// Name is the HL7 table 0211 code, such as "UNICODE UTF-8" or "8859/1".
	Name    string
	charmap *charmap.Charmap // nil for ASCII and UTF-8
	utf8    bool
}

// The character sets of HL7 table 0211 that the package supports.
var (
	CharsetASCII = &Charset{Name: "ASCII"}
	CharsetUTF8  = &Charset{Name: "UNICODE UTF-8", utf8: true}
	// CharsetLatin1 is ISO 8859-1, HL7 code "8859/1".
	CharsetLatin1 = &Charset{Name: "8859/1", charmap: charmap.ISO8859_1}
)

var charsets = map[string]*Charset{
	"ASCII":         CharsetASCII,
	"UNICODE UTF-8": CharsetUTF8,
	"8859/1":        CharsetLatin1,
	"8859/2":        {Name: "8859/2", charmap: charmap.ISO8859_2},
	"8859/3":        {Name: "8859/3", charmap: charmap.ISO8859_3},
	"8859/4":        {Name: "8859/4", charmap: charmap.ISO8859_4},
	"8859/5":        {Name: "8859/5", charmap: charmap.ISO8859_5},
	"8859/6":        {Name: "8859/6", charmap: charmap.ISO8859_6},
	"8859/7":        {Name: "8859/7", charmap: charmap.ISO8859_7},
	"8859/8":        {Name: "8859/8", charmap: charmap.ISO8859_8},
	"8859/9":        {Name: "8859/9", charmap: charmap.ISO8859_9},
	"8859/15":       {Name: "8859/15", charmap: charmap.ISO8859_15},
}

// LookupCharset returns the character set with the given HL7 table 0211
// code. An empty name is ASCII, the default that HL7 gives to a message
// without MSH-18.
func LookupCharset(name string) (*Charset, bool) {
	if name == "" {
		return CharsetASCII, true
	}
	cs, ok := charsets[name]
	return cs, ok
}

// lookupCharsetLenient also accepts spellings that senders use instead of
// the table code, such as "UTF-8" and "ISO-8859-1".
func lookupCharsetLenient(name string) (*Charset, bool) {
	if cs, ok := LookupCharset(name); ok {
		return cs, true
	}
	switch strings.ToUpper(strings.ReplaceAll(name, "_", "-")) {
	case "UTF-8", "UTF8", "UNICODE UTF8":
		return CharsetUTF8, true
	case "ISO-8859-1", "ISO8859-1", "LATIN1", "LATIN-1", "8859-1":
		return CharsetLatin1, true
	case "US-ASCII":
		return CharsetASCII, true
	}
	return nil, false
}

// decode converts b to UTF-8. It returns the index of the first byte that
// is invalid in the character set, or -1.
func (c *Charset) decode(b []byte) (string, int) {
	switch {
	case c.utf8:
		if utf8.Valid(b) {
			return string(b), -1
		}
		for i := 0; i < len(b); {
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", i
			}
			i += size
		}
		return "", 0
	case c.charmap == nil: // ASCII
		for i, x := range b {
			if x >= 0x80 {
				return "", i
			}
		}
		return string(b), -1
	}
	ascii := true
	for _, x := range b {
		if x >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b), -1
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/4)
	for i, x := range b {
		r := c.charmap.DecodeByte(x)
		if r == utf8.RuneError {
			return "", i
		}
		sb.WriteRune(r)
	}
	return sb.String(), -1
}

// encodeRune appends r in this character set and reports whether the set
// can represent it.
func (c *Charset) encodeRune(dst []byte, r rune) ([]byte, bool) {
	switch {
	case r < 0x80:
		return append(dst, byte(r)), true
	case c.utf8:
		return utf8.AppendRune(dst, r), true
	case c.charmap == nil:
		return dst, false
	}
	b, ok := c.charmap.EncodeRune(r)
	if !ok {
		return dst, false
	}
	return append(dst, b), true
}

// rawOffset converts a byte offset in the decoded (UTF-8) text of a segment
// into an offset in its raw bytes. Single-byte sets map one rune to one
// byte; ASCII and UTF-8 text is unchanged by decoding.
func (c *Charset) rawOffset(text string, i int) int {
	if c.charmap == nil || i <= 0 || i > len(text) {
		return i
	}
	return utf8.RuneCountInString(text[:i])
}

// decodeLatin1 maps every byte to the rune of the same value, the
// fallback that lenient mode uses for bytes that are valid in no
// supported set.
func decodeLatin1(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) * 2)
	for _, x := range b {
		sb.WriteRune(rune(x))
	}
	return sb.String()
}
