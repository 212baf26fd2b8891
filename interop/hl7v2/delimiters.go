package hl7v2

// Delimiters are the separators and the escape character of a message,
// read from MSH-1 and MSH-2. A zero byte means the position is not used:
// a short MSH-2 such as "^~&" leaves the later positions unused rather than
// filled with the usual characters.
type Delimiters struct {
	Field        byte
	Component    byte
	Repetition   byte
	Escape       byte
	Subcomponent byte
	// Truncation is the fifth character of MSH-2, defined from v2.7. It is
	// recorded but is not a delimiter.
	Truncation byte
	// Encoding is MSH-2 as sent, kept byte for byte for the writer and ACKs.
	Encoding string
}

// DefaultDelimiters are "|" and "^~\&", the characters HL7 recommends.
var DefaultDelimiters = Delimiters{
	Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&',
	Encoding: `^~\&`,
}

// parseEncoding reads the characters of MSH-2 by position: component,
// repetition, escape, subcomponent, truncation. It returns a message for the
// first character that cannot be a delimiter, or "" when all are valid.
func parseEncoding(fs byte, enc string) (Delimiters, string) {
	d := Delimiters{Field: fs, Encoding: enc}
	if enc == "" {
		// The standard requires MSH-2, and without a component separator
		// neither the message nor its ACK can locate a component.
		return d, "MSH-2 (encoding characters) is empty"
	}
	if len(enc) > 5 {
		return d, "MSH-2 has more than 5 encoding characters"
	}
	slots := []*byte{&d.Component, &d.Repetition, &d.Escape, &d.Subcomponent, &d.Truncation}
	seen := map[byte]bool{fs: true}
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if !isDelimiterChar(c) {
			return d, "MSH-2 contains a character that cannot be a delimiter"
		}
		if seen[c] {
			return d, "MSH-2 repeats a delimiter character"
		}
		seen[c] = true
		*slots[i] = c
	}
	return d, ""
}

// isDelimiterChar reports whether c may serve as a separator: printable
// ASCII that is neither a letter, a digit nor a space.
func isDelimiterChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !isAlnum(c)
}

func isAlnum(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
}

// separator returns the delimiter that separates children of an element at
// the given level, 0 when that level is not split.
func (d *Delimiters) separator(l level) byte {
	switch l {
	case levelField:
		return d.Repetition
	case levelRepetition:
		return d.Component
	case levelComponent:
		return d.Subcomponent
	}
	return 0
}
