package hl7v2

import (
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
)

// escapeProblem is a fault found while decoding the escape sequences of one
// value, with its byte offset in the value.
type escapeProblem struct {
	offset  int
	message string
}

// unescaper decodes the escape sequences of leaf values. It is built once
// per message.
type unescaper struct {
	d       *Delimiters
	charset *Charset
	lenient bool
}

// decode returns the text of raw with every escape sequence decoded once.
// A sequence it cannot decode stays in the text as sent and is reported as
// a problem, whose severity the caller decides.
func (u *unescaper) decode(raw string) (string, []escapeProblem) {
	esc := u.d.Escape
	if esc == 0 || strings.IndexByte(raw, esc) < 0 {
		return raw, nil
	}
	var b strings.Builder
	b.Grow(len(raw))
	var problems []escapeProblem
	i := 0
	for i < len(raw) {
		j := strings.IndexByte(raw[i:], esc)
		if j < 0 {
			b.WriteString(raw[i:])
			break
		}
		b.WriteString(raw[i : i+j])
		start := i + j
		end := strings.IndexByte(raw[start+1:], esc)
		if end < 0 {
			problems = append(problems, escapeProblem{start, "escape character without a closing escape character"})
			b.WriteString(raw[start:])
			break
		}
		end += start + 1
		code := raw[start+1 : end]
		text, problem := u.sequence(code)
		if problem != "" {
			problems = append(problems, escapeProblem{start, problem})
			b.WriteString(raw[start : end+1])
		} else {
			b.WriteString(text)
		}
		i = end + 1
	}
	return b.String(), problems
}

// sequence decodes the code between two escape characters. It returns a
// problem description when the code is invalid or unsupported.
func (u *unescaper) sequence(code string) (string, string) {
	if code == "" {
		return "", "empty escape sequence"
	}
	one := func(c byte) (string, string) {
		if c == 0 {
			return "", "escape sequence names a delimiter that MSH-2 does not define"
		}
		return string(c), ""
	}
	switch code {
	case "F":
		return one(u.d.Field)
	case "S":
		return one(u.d.Component)
	case "T":
		return one(u.d.Subcomponent)
	case "R":
		return one(u.d.Repetition)
	case "E":
		return one(u.d.Escape)
	case "P":
		return one(u.d.Truncation)
	case "H", "N":
		// Highlighting on and off: kept out of the decoded text.
		return "", ""
	}
	switch code[0] {
	case 'X':
		return u.hexData(code[1:])
	case '.':
		return formatting(code[1:])
	case 'Z':
		// A locally defined sequence has no meaning here, so the text keeps
		// it as sent, escape characters included.
		e := string(u.d.Escape)
		return e + code + e, ""
	case 'C', 'M':
		return "", "character set switching escape sequences are not supported"
	}
	return "", "unknown escape sequence"
}

// hexData decodes \Xhh..\ into text. The bytes of one sequence are decoded
// together, in the message's character set. When that set is ASCII, they
// are read as UTF-8, because that is how the writer encodes characters that
// ASCII cannot represent.
func (u *unescaper) hexData(digits string) (string, string) {
	if len(digits) == 0 || len(digits)%2 != 0 {
		return "", "hexadecimal escape sequence needs an even, non-zero number of digits"
	}
	data, err := hex.DecodeString(digits)
	if err != nil {
		return "", "hexadecimal escape sequence contains a character that is not a hex digit"
	}
	cs := u.charset
	if cs == CharsetASCII {
		cs = CharsetUTF8
	}
	text, bad := cs.decode(data)
	if bad >= 0 {
		return "", "hexadecimal escape sequence holds bytes that are invalid in the message character set"
	}
	return text, ""
}

// formatting decodes the formatting commands of the FT data type. A line
// break (.br) and vertical space (.sp n) become LF characters. The other
// commands (.fi, .nf, .in, .ti, .sk, .ce) only affect display and are kept
// out of the decoded text.
func formatting(cmd string) (string, string) {
	switch {
	case cmd == "br":
		return "\n", ""
	case strings.HasPrefix(cmd, "sp"):
		n := 1
		if arg := strings.TrimSpace(cmd[2:]); arg != "" {
			v, err := strconv.Atoi(strings.TrimPrefix(arg, "+"))
			if err != nil || v < 0 || v > 100 {
				return "", "invalid .sp formatting command"
			}
			n = v
		}
		return strings.Repeat("\n", n), ""
	case cmd == "fi", cmd == "nf", cmd == "ce",
		strings.HasPrefix(cmd, "in"), strings.HasPrefix(cmd, "ti"), strings.HasPrefix(cmd, "sk"):
		return "", ""
	}
	return "", "unknown formatting command"
}

// Escape returns text with every delimiter, the escape character and each
// control character replaced by its escape sequence, ready to be placed in
// one leaf of a message with delimiters d. A truncation character is
// escaped as \P\ only at the end of the value, the one place where it
// means truncation. Characters outside ASCII are kept: the writer replaces
// those that the output character set cannot represent.
func Escape(text string, d Delimiters) (string, error) {
	if !needsEscape(text, &d) {
		return text, nil
	}
	if d.Escape == 0 {
		return "", errNoEscape
	}
	e := string(d.Escape)
	var b strings.Builder
	b.Grow(len(text) + 8)
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == d.Field:
			b.WriteString(e + "F" + e)
		case c == d.Component && c != 0:
			b.WriteString(e + "S" + e)
		case c == d.Repetition && c != 0:
			b.WriteString(e + "R" + e)
		case c == d.Subcomponent && c != 0:
			b.WriteString(e + "T" + e)
		case c == d.Escape:
			b.WriteString(e + "E" + e)
		case c == d.Truncation && c != 0 && i == len(text)-1:
			b.WriteString(e + "P" + e)
		case c < 0x20 || c == 0x7f:
			b.WriteString(e + "X" + strings.ToUpper(hex.EncodeToString([]byte{c})) + e)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// needsEscape reports whether text contains a byte that Escape replaces.
func needsEscape(text string, d *Delimiters) bool {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < 0x20 || c == 0x7f || c == d.Field || c == d.Escape {
			return true
		}
		if c != 0 && (c == d.Component || c == d.Repetition || c == d.Subcomponent) {
			return true
		}
		if c == d.Truncation && c != 0 && i == len(text)-1 {
			return true
		}
	}
	return false
}

// encodeText converts UTF-8 text of a segment into bytes of cs. A character
// that cs cannot represent becomes \Xhh..\ with its UTF-8 bytes when cs is
// ASCII; for other sets it is an error, because a reader decodes hex bytes
// in the message's own set.
func encodeText(dst []byte, text string, cs *Charset, esc byte) ([]byte, bool) {
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		var ok bool
		dst, ok = cs.encodeRune(dst, r)
		if !ok {
			if cs != CharsetASCII || esc == 0 {
				return dst, false
			}
			dst = append(dst, esc, 'X')
			dst = append(dst, strings.ToUpper(hex.EncodeToString([]byte(text[i:i+size])))...)
			dst = append(dst, esc)
		}
		i += size
	}
	return dst, true
}
