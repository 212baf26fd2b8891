package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdentifier
	tokString
	tokNumber
	tokDateTime  // @2020-01-01, @2020-01-01T10:00:00Z, @T10:00
	tokExternal  // %resource
	tokSpecial   // $this, $index, $total
	tokOperator  // . [ ] ( ) { } , | = != ~ !~ < > <= >= + - * / &
	tokDelimited // `identifier`
)

type token struct {
	kind tokenKind
	text string // identifier name, decoded string, number or operator text
	pos  int    // byte offset in the expression
}

// lex splits a FHIRPath expression into tokens.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, syntaxError(src, i, "unterminated comment")
			}
			i += end + 4
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			toks = append(toks, token{tokIdentifier, src[i:j], i})
			i = j
		case c >= '0' && c <= '9':
			j := scanNumber(src, i)
			toks = append(toks, token{tokNumber, src[i:j], i})
			i = j
		case c == '\'' || c == '`':
			text, j, err := scanQuoted(src, i)
			if err != nil {
				return nil, err
			}
			kind := tokString
			if c == '`' {
				kind = tokDelimited
			}
			toks = append(toks, token{kind, text, i})
			i = j
		case c == '%':
			j := i + 1
			switch {
			case j < len(src) && (src[j] == '`' || src[j] == '\''):
				text, end, err := scanQuoted(src, j)
				if err != nil {
					return nil, err
				}
				toks = append(toks, token{tokExternal, text, i})
				i = end
				continue
			case j < len(src) && isIdentStart(src[j]):
				for j < len(src) && isIdentPart(src[j]) {
					j++
				}
				toks = append(toks, token{tokExternal, src[i+1 : j], i})
				i = j
			default:
				return nil, syntaxError(src, i, "expected a name after %")
			}
		case c == '$':
			j := i + 1
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			toks = append(toks, token{tokSpecial, src[i:j], i})
			i = j
		case c == '@':
			j := i + 1
			for j < len(src) && isDateTimeChar(src[j]) {
				j++
			}
			toks = append(toks, token{tokDateTime, src[i+1 : j], i})
			i = j
		default:
			op := ""
			for _, candidate := range []string{"!=", "!~", "<=", ">=", ".", "[", "]", "(", ")",
				",", "|", "=", "~", "<", ">", "+", "-", "*", "/", "&", "{", "}"} {
				if strings.HasPrefix(src[i:], candidate) {
					op = candidate
					break
				}
			}
			if op == "" {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, syntaxError(src, i, fmt.Sprintf("unexpected character %q", r))
			}
			toks = append(toks, token{tokOperator, op, i})
			i += len(op)
		}
	}
	toks = append(toks, token{tokEOF, "", len(src)})
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9')
}

func isDateTimeChar(c byte) bool {
	return (c >= '0' && c <= '9') || c == '-' || c == ':' || c == 'T' || c == 'Z' ||
		c == '.' || c == '+'
}

// scanNumber returns the end of the number literal that starts at i. A dot
// belongs to the number only when a digit follows it, so "1.exists()" is not
// misread.
func scanNumber(src string, i int) int {
	j := i
	for j < len(src) && src[j] >= '0' && src[j] <= '9' {
		j++
	}
	if j+1 < len(src) && src[j] == '.' && src[j+1] >= '0' && src[j+1] <= '9' {
		j++
		for j < len(src) && src[j] >= '0' && src[j] <= '9' {
			j++
		}
	}
	return j
}

// scanQuoted decodes the string or delimited identifier that starts with the
// quote character at src[i], and returns it with the offset after the
// closing quote.
func scanQuoted(src string, i int) (string, int, error) {
	quote := src[i]
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		c := src[j]
		if c == quote {
			return b.String(), j + 1, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			j++
			continue
		}
		if j+1 >= len(src) {
			break
		}
		esc := src[j+1]
		j += 2
		switch esc {
		case '\'', '"', '`', '\\', '/':
			b.WriteByte(esc)
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if j+4 > len(src) {
				return "", 0, syntaxError(src, j-2, "invalid \\u escape")
			}
			r, err := strconv.ParseUint(src[j:j+4], 16, 32)
			if err != nil {
				return "", 0, syntaxError(src, j-2, "invalid \\u escape")
			}
			b.WriteRune(rune(r))
			j += 4
		default:
			return "", 0, syntaxError(src, j-2, fmt.Sprintf("invalid escape \\%c", esc))
		}
	}
	return "", 0, syntaxError(src, i, "unterminated quoted text")
}
