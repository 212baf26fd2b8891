package match

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// foldWords folds s for comparison and splits it into words. Folding applies
// NFKD, drops combining marks and lowers the case, so Müller becomes muller
// and José becomes jose. Letters that NFKD leaves whole are spelled out as
// in German and Scandinavian transliteration (ß as ss, ø as o, æ as ae).
// Apostrophes vanish, so O'Brien becomes obrien, and every other character
// that is neither a letter nor a digit separates words.
func foldWords(s string) []string {
	if !isASCII(s) {
		s = norm.NFKD.String(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == '\'' || r == '’' || r == 'ʼ' || r == '`':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			r = unicode.ToLower(r)
			if spelled, ok := spelledLetters[r]; ok {
				b.WriteString(spelled)
			} else {
				b.WriteRune(r)
			}
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

var spelledLetters = map[rune]string{
	'ß': "ss", 'æ': "ae", 'ø': "o", 'œ': "oe", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i",
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// honorifics are words dropped from given names, and generational suffixes
// are dropped from family names, because FHIR puts both in prefix and suffix
// but registration forms often do not.
var (
	honorifics = map[string]bool{
		"mr": true, "mrs": true, "ms": true, "miss": true, "mx": true, "dr": true, "prof": true,
		"sir": true,
	}
	generationalSuffixes = map[string]bool{
		"jr": true, "sr": true, "ii": true, "iii": true, "iv": true,
	}
)

// postalCode returns the letters and digits of a postal code in upper case,
// with a US ZIP+4 code cut to its five-digit ZIP code.
func postalCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	code := b.String()
	if len(code) == 9 && isDigits(code) && strings.ContainsRune(s, '-') {
		return code[:5]
	}
	return code
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// phoneMinDigits is the shortest phone number that is compared. Shorter
// values are extensions or typing errors that would match by chance.
const phoneMinDigits = 7

// phoneDigits returns the last ten ASCII digits of a phone number, or all
// of them when there are fewer, and "" when there are fewer than
// phoneMinDigits.
func phoneDigits(s string) string {
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits = append(digits, s[i])
		}
	}
	if len(digits) < phoneMinDigits {
		return ""
	}
	if len(digits) > 10 {
		digits = digits[len(digits)-10:]
	}
	return string(digits)
}

// identifierValue removes spaces, hyphens and dots from an identifier and
// upper-cases it, so 123-45-6789 equals 123 45 6789.
func identifierValue(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r != ' ' && r != '-' && r != '.' && !unicode.IsSpace(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// streetWords maps common street words to the abbreviations of USPS
// Publication 28, so Main Street equals Main St.
var streetWords = map[string]string{
	"street": "st", "avenue": "ave", "road": "rd", "drive": "dr", "boulevard": "blvd",
	"lane": "ln", "court": "ct", "place": "pl", "square": "sq", "terrace": "ter",
	"highway": "hwy", "parkway": "pkwy", "circle": "cir", "apartment": "apt",
	"suite": "ste", "building": "bldg", "floor": "fl", "north": "n", "south": "s",
	"east": "e", "west": "w",
}
