package match

// blockingCodeLength is the code length of Lawrence Philips' original Double
// Metaphone description (C/C++ Users Journal, June 2000). Blocking keys use
// codes cut to it, and Compare uses whole codes, so that a long name such as
// Whitakerbrooks does not sound like Whitaker.
const blockingCodeLength = 4

// doubleMetaphone returns the whole primary and alternate Double Metaphone
// codes of a word. Only the letters a-z are read (callers pass folded text,
// in which Ç and Ñ have already become C and N), so a word in another script
// gets two empty codes. The alternate code is empty when it equals the
// primary one. A code cut to its first n letters equals the code that the
// published algorithm computes with maximum length n.
func doubleMetaphone(word string) (primary, alternate string) {
	m := newMetaphoner(word)
	if m.n == 0 {
		return "", ""
	}
	m.encode()
	primary, alternate = string(m.primary), string(m.alternate)
	if alternate == primary {
		alternate = ""
	}
	return primary, alternate
}

// metaphoner is the state of one encoding. The word is upper case and padded
// with spaces, so that the published rules that look for a space find the
// end of the word.
type metaphoner struct {
	word               []byte
	n                  int // letters before the padding
	last               int
	slavoGermanic      bool
	primary, alternate []byte
}

func newMetaphoner(word string) *metaphoner {
	m := &metaphoner{word: make([]byte, 0, len(word)+5)}
	for i := 0; i < len(word); i++ {
		c := word[i]
		switch {
		case c >= 'a' && c <= 'z':
			m.word = append(m.word, c-'a'+'A')
		case c >= 'A' && c <= 'Z':
			m.word = append(m.word, c)
		}
	}
	m.n = len(m.word)
	m.last = m.n - 1
	m.word = append(m.word, "     "...)
	m.slavoGermanic = m.contains("W") || m.contains("K") || m.contains("CZ")
	m.primary = make([]byte, 0, 8)
	m.alternate = make([]byte, 0, 8)
	return m
}

func (m *metaphoner) contains(s string) bool {
	for i := 0; i+len(s) <= m.n; i++ {
		if string(m.word[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

func (m *metaphoner) at(i int) byte {
	if i < 0 || i >= len(m.word) {
		return 0
	}
	return m.word[i]
}

// has reports whether one of options starts at position start.
func (m *metaphoner) has(start int, options ...string) bool {
	if start < 0 {
		return false
	}
	for _, o := range options {
		if start+len(o) <= len(m.word) && string(m.word[start:start+len(o)]) == o {
			return true
		}
	}
	return false
}

func (m *metaphoner) vowel(i int) bool {
	switch m.at(i) {
	case 'A', 'E', 'I', 'O', 'U', 'Y':
		return true
	}
	return false
}

// add appends s to both codes.
func (m *metaphoner) add(s string) { m.add2(s, s) }

func (m *metaphoner) add2(primary, alternate string) {
	m.primary = append(m.primary, primary...)
	m.alternate = append(m.alternate, alternate...)
}

// skipDouble appends code to both codes and steps over a doubled letter.
func (m *metaphoner) skipDouble(cur int, code string) int {
	m.add(code)
	if m.at(cur+1) == m.at(cur) {
		return cur + 2
	}
	return cur + 1
}

func (m *metaphoner) encode() {
	cur := 0
	// Silent first letters, as in Gnome, Knight, Pneumonia, Wright, Psyche.
	if m.has(0, "GN", "KN", "PN", "WR", "PS") {
		cur = 1
	}
	// An initial X sounds like S, as in Xavier.
	if m.at(0) == 'X' {
		m.add("S")
		cur = 1
	}
	for cur < m.n {
		switch m.word[cur] {
		case 'A', 'E', 'I', 'O', 'U', 'Y':
			if cur == 0 {
				m.add("A")
			}
			cur++
		case 'B':
			cur = m.skipDouble(cur, "P")
		case 'C':
			cur = m.encodeC(cur)
		case 'D':
			cur = m.encodeD(cur)
		case 'F':
			cur = m.skipDouble(cur, "F")
		case 'G':
			cur = m.encodeG(cur)
		case 'H':
			cur = m.encodeH(cur)
		case 'J':
			cur = m.encodeJ(cur)
		case 'K':
			cur = m.skipDouble(cur, "K")
		case 'L':
			cur = m.encodeL(cur)
		case 'M':
			cur = m.encodeM(cur)
		case 'N':
			cur = m.skipDouble(cur, "N")
		case 'P':
			cur = m.encodeP(cur)
		case 'Q':
			cur = m.skipDouble(cur, "K")
		case 'R':
			cur = m.encodeR(cur)
		case 'S':
			cur = m.encodeS(cur)
		case 'T':
			cur = m.encodeT(cur)
		case 'V':
			cur = m.skipDouble(cur, "F")
		case 'W':
			cur = m.encodeW(cur)
		case 'X':
			cur = m.encodeX(cur)
		case 'Z':
			cur = m.encodeZ(cur)
		default:
			cur++
		}
	}
}
