package match

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDoubleMetaphoneCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, word, primary, alternate string
	}{
		{name: "initial s before m", word: "smith", primary: "SM0", alternate: "XMT"},
		{name: "germanic sch", word: "schmidt", primary: "XMT", alternate: "SMT"},
		{name: "th before om", word: "thompson", primary: "TMPSN"},
		{name: "c before a", word: "catherine", primary: "K0RN", alternate: "KTRN"},
		{name: "k and y", word: "kathryn", primary: "K0RN", alternate: "KTRN"},
		{name: "initial j", word: "jon", primary: "JN", alternate: "AN"},
		{name: "silent h", word: "john", primary: "JN", alternate: "AN"},
		{name: "ph as f", word: "philips", primary: "FLPS"},
		{name: "double f", word: "fillips", primary: "FLPS"},
		{name: "folded umlaut", word: "muller", primary: "MLR"},
		{name: "spanish c", word: "garcia", primary: "KRS", alternate: "KRX"},
		{name: "spanish jose", word: "jose", primary: "HS"},
		{name: "initial x", word: "xavier", primary: "SF", alternate: "SFR"},
		{name: "silent k and gh", word: "knight", primary: "NT"},
		{name: "silent gh after h", word: "hugh", primary: "H"},
		{name: "gh as f", word: "laugh", primary: "LF"},
		{name: "initial wr", word: "wright", primary: "RT"},
		{name: "polish cz", word: "czerny", primary: "SRN", alternate: "XRN"},
		{name: "silent b after m", word: "dumb", primary: "TM"},
		{name: "dg before e", word: "edge", primary: "AJ"},
		{name: "chae", word: "michael", primary: "MKL", alternate: "MXL"},
		{name: "pinyin zh", word: "zhao", primary: "J"},
		{name: "whole code", word: "christensen", primary: "KRSTNSN"},
		{name: "non latin script", word: "иванов"},
		{name: "empty", word: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			primary, alternate := doubleMetaphone(tt.word)
			assert.Equal(t, tt.primary, primary, "primary")
			assert.Equal(t, tt.alternate, alternate, "alternate")
		})
	}
}

func TestCompareWordsPhonetic(t *testing.T) {
	t.Parallel()
	pairs := [][2]string{
		{"smith", "smyth"},
		{"catherine", "kathryn"},
		{"jon", "john"},
		{"philips", "fillips"},
		{"schmidt", "smith"},
	}
	for _, p := range pairs {
		t.Run(p[0]+" "+p[1], func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, Phonetic, compareWords(newWord(p[0]), newWord(p[1])))
		})
	}
}
