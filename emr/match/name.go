package match

import (
	"strings"
	"unicode/utf8"
)

// word is a folded name word with its Double Metaphone codes.
type word struct {
	text               string
	primary, alternate string
}

func newWord(text string) word {
	primary, alternate := doubleMetaphone(text)
	return word{text: text, primary: primary, alternate: alternate}
}

// preparedName is a Name folded for comparison. The family name is compared
// as one word with its parts joined, so Smith-Jones equals Smith Jones, and
// family parts holds the parts for the partial outcome.
type preparedName struct {
	family      word
	familyParts []string
	given       []word
}

func prepareName(n Name) (preparedName, bool) {
	var name preparedName
	parts := foldWords(n.Family)
	for len(parts) > 1 && generationalSuffixes[parts[len(parts)-1]] {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 0 {
		name.familyParts = parts
		name.family = newWord(strings.Join(parts, ""))
	}
	for _, g := range n.Given {
		for _, w := range foldWords(g) {
			if !honorifics[w] {
				name.given = append(name.given, newWord(w))
			}
		}
	}
	return name, name.family.text != "" || len(name.given) > 0
}

// compareWords returns Exact, Phonetic, Typo or Mismatch for two name words.
// Phonetic means that a Double Metaphone code of one equals a code of the
// other.
func compareWords(a, b word) Kind {
	switch {
	case a.text == b.text:
		return Exact
	case sharesCode(a, b):
		return Phonetic
	case isTypo(a.text, b.text):
		return Typo
	}
	return Mismatch
}

func sharesCode(a, b word) bool {
	if a.primary == "" || b.primary == "" {
		return false
	}
	return a.primary == b.primary ||
		(b.alternate != "" && a.primary == b.alternate) ||
		(a.alternate != "" && (a.alternate == b.primary || a.alternate == b.alternate))
}

func agrees(kind Kind) bool { return kind == Exact || kind == Phonetic || kind == Typo }

// compareNames compares every name of a with every name of b and returns
// the outcome of the pair with the highest weight, and false when no pair
// has a family or given name on both sides.
func compareNames(a, b []preparedName, cfg *Config) (Kind, float64, bool) {
	var bestKind Kind
	bestWeight, found := 0.0, false
	for _, na := range a {
		for _, nb := range b {
			kind, weight, ok := compareName(na, nb, cfg)
			if ok && (!found || weight > bestWeight) {
				bestKind, bestWeight, found = kind, weight, true
			}
		}
	}
	return bestKind, bestWeight, found
}

// compareName adds the weights of the family and the given name outcomes.
// The reported Kind is Exact when both are exact, Partial when one agrees
// and the other does not or when the names are swapped, Mismatch when
// neither agrees, and otherwise the weaker of Phonetic and Typo.
func compareName(a, b preparedName, cfg *Config) (Kind, float64, bool) {
	hasFamily := a.family.text != "" && b.family.text != ""
	hasGiven := len(a.given) > 0 && len(b.given) > 0
	if !hasFamily && !hasGiven {
		return "", 0, false
	}

	var familyKind, givenKind Kind
	weight := 0.0
	if hasFamily {
		familyKind = compareFamily(a, b)
		weight += cfg.FamilyName.level(familyKind).Weight()
	}
	if hasGiven {
		givenKind = compareGiven(a.given, b.given, cfg)
		weight += cfg.GivenName.level(givenKind).Weight()
	}

	if hasFamily && hasGiven && isSwapped(a, b) {
		if swapWeight := cfg.NameSwap.Weight(); swapWeight > weight {
			return Partial, swapWeight, true
		}
	}
	return combineNameKinds(familyKind, givenKind), weight, true
}

// compareFamily returns the outcome of compareWords, with one more rule
// before the typo rule. When one family name is compound and a part of it
// equals a part of the other, as Garcia in Garcia Lopez, the outcome is
// Partial. It comes first because Jaro-Winkler favors a shared beginning and
// would call Whitaker-Brooks a typo of Whitaker.
func compareFamily(a, b preparedName) Kind {
	if a.family.text == b.family.text {
		return Exact
	}
	if sharesCode(a.family, b.family) {
		return Phonetic
	}
	if len(a.familyParts) > 1 || len(b.familyParts) > 1 {
		for _, x := range a.familyParts {
			for _, y := range b.familyParts {
				if len(x) > 1 && x == y {
					return Partial
				}
			}
		}
	}
	if isTypo(a.family.text, b.family.text) {
		return Typo
	}
	return Mismatch
}

// compareGiven returns the outcome with the highest weight over all pairs of
// given names, so a middle name used as first name still agrees. A single
// letter is an initial and agrees, as Partial, with a name it starts.
func compareGiven(a, b []word, cfg *Config) Kind {
	best, bestWeight := Mismatch, cfg.GivenName.Mismatch.Weight()
	for _, x := range a {
		for _, y := range b {
			kind := compareWords(x, y)
			if kind == Mismatch && isInitialOf(x.text, y.text) {
				kind = Partial
			}
			if w := cfg.GivenName.level(kind).Weight(); w > bestWeight {
				best, bestWeight = kind, w
			}
		}
	}
	return best
}

func isInitialOf(x, y string) bool {
	if utf8.RuneCountInString(x) > 1 && utf8.RuneCountInString(y) > 1 {
		return false
	}
	rx, _ := utf8.DecodeRuneInString(x)
	ry, _ := utf8.DecodeRuneInString(y)
	return x != "" && rx == ry
}

// isSwapped reports whether the family name of each agrees with a given
// name of the other.
func isSwapped(a, b preparedName) bool {
	return agreesWithAny(a.family, b.given) && agreesWithAny(b.family, a.given)
}

func agreesWithAny(w word, words []word) bool {
	for _, x := range words {
		if agrees(compareWords(w, x)) {
			return true
		}
	}
	return false
}

func combineNameKinds(family, given Kind) Kind {
	switch {
	case family == "":
		return given
	case given == "":
		return family
	case family == Exact && given == Exact:
		return Exact
	case agrees(family) && agrees(given):
		if family == Typo || given == Typo {
			return Typo
		}
		return Phonetic
	case family == Mismatch && given == Mismatch:
		return Mismatch
	}
	return Partial
}
