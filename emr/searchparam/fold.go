package searchparam

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// foldTransformers pools the chains used by FoldString, because a
// transform.Transformer keeps state and is not safe for concurrent use.
//
// The chain decomposes (NFKD), removes nonspacing marks, case folds, and
// then decomposes and removes marks again, because case folding can map a
// character to one followed by a combining mark and NFKD can produce upper
// case letters (U+3392 "㎒" becomes "MHz").
var foldTransformers = sync.Pool{New: func() any {
	removeMarks := runes.Remove(runes.In(unicode.Mn))
	return transform.Chain(norm.NFKD, removeMarks, cases.Fold(), norm.NFKD, removeMarks)
}}

// FoldString returns s in the form used to match string parameters: Unicode
// compatibility decomposition (NFKD), without combining marks, case folded.
// "Zoë", "Zoe\u0308" and "ZOE" all fold to "zoe", and "ΠΑΠΑΔΟΠΟΎΛΟΥ" to
// "παπαδοπουλου". The query side must fold search values with it too.
func FoldString(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	t := foldTransformers.Get().(transform.Transformer)
	folded, _, err := transform.String(t, s)
	foldTransformers.Put(t)
	if err != nil {
		// The transformers only fail on invalid UTF-8, which was replaced
		// above; lower casing keeps the result usable all the same.
		return strings.ToLower(s)
	}
	return folded
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
