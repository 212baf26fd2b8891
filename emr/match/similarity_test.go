package match

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestJaroWinkler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, a, b string
		want       float64
	}{
		{name: "textbook martha", a: "martha", b: "marhta", want: 0.9611},
		{name: "textbook dwayne", a: "dwayne", b: "duane", want: 0.84},
		{name: "textbook dixon", a: "dixon", b: "dicksonx", want: 0.8133},
		{name: "equal", a: "smith", b: "smith", want: 1},
		{name: "nothing shared", a: "abc", b: "xyz", want: 0},
		{name: "empty", a: "", b: "smith", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.InDelta(t, tt.want, jaroWinkler([]rune(tt.a), []rune(tt.b)), 0.0001)
			assert.InDelta(t, tt.want, jaroWinkler([]rune(tt.b), []rune(tt.a)), 0.0001, "swapped arguments")
		})
	}
}

func TestWithinOneEdit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, a, b string
		want       bool
	}{
		{name: "equal", a: "smith", b: "smith", want: true},
		{name: "substitution", a: "smith", b: "smuth", want: true},
		{name: "insertion", a: "smith", b: "smitth", want: true},
		{name: "deletion at end", a: "smith", b: "smit", want: true},
		{name: "deletion at start", a: "smith", b: "mith", want: true},
		{name: "adjacent transposition", a: "smith", b: "smtih", want: true},
		{name: "two substitutions", a: "smith", b: "smoto", want: false},
		{name: "distant transposition", a: "smith", b: "shits", want: false},
		{name: "two insertions", a: "smith", b: "smithes", want: false},
		{name: "non ascii", a: "müller", b: "muller", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, withinOneEdit([]rune(tt.a), []rune(tt.b)))
			assert.Equal(t, tt.want, withinOneEdit([]rune(tt.b), []rune(tt.a)), "swapped arguments")
		})
	}
}

func TestIsTypo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, a, b string
		want       bool
	}{
		{name: "one substitution", a: "whitaker", b: "whiraker", want: true},
		{name: "shared beginning", a: "catherine", b: "catharina", want: true},
		{name: "short names", a: "ann", b: "ian", want: false},
		{name: "different names", a: "emma", b: "jacob", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, isTypo(tt.a, tt.b))
		})
	}
}

func TestFoldWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
	}{
		{name: "umlaut", in: "Müller", want: []string{"muller"}},
		{name: "acute accent", in: "José", want: []string{"jose"}},
		{name: "sharp s", in: "Straße", want: []string{"strasse"}},
		{name: "apostrophe", in: "O'Brien", want: []string{"obrien"}},
		{name: "hyphen", in: "Smith-Jones", want: []string{"smith", "jones"}},
		{name: "spaces and case", in: "  VAN  der Berg ", want: []string{"van", "der", "berg"}},
		{name: "compatibility form", in: "ﬁnn", want: []string{"finn"}},
		{name: "empty", in: "", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, foldWords(tt.in))
		})
	}
}
