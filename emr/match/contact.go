package match

import (
	"slices"
	"strings"
)

// normalizeSex returns male, female or other, and "" for unknown, empty or
// unrecognized codes.
func normalizeSex(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "male", "m":
		return "male"
	case "female", "f":
		return "female"
	case "other":
		return "other"
	}
	return ""
}

func compareSex(a, b string) (Kind, bool) {
	if a == "" || b == "" {
		return "", false
	}
	if a == b {
		return Exact, true
	}
	return Mismatch, true
}

func normalizeEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if !strings.Contains(s, "@") {
		return ""
	}
	return s
}

// samePhone reports whether the last min(len(a), len(b)) digits are equal,
// so a local number matches the same number with its area code.
func samePhone(a, b string) bool {
	n := min(len(a), len(b))
	return a[len(a)-n:] == b[len(b)-n:]
}

// preparedAddress is an Address folded for comparison. The street is the
// joined lines with street words abbreviated. House numbers are all the
// street words that contain a digit, and letters are the others, joined.
type preparedAddress struct {
	postalCode   string
	street       string
	houseNumbers string
	letters      string
	city         string
}

func prepareAddress(a Address) (preparedAddress, bool) {
	var numbers, letters, street []string
	for _, line := range a.Lines {
		for _, w := range foldWords(line) {
			if short, ok := streetWords[w]; ok {
				w = short
			}
			street = append(street, w)
			if strings.ContainsAny(w, "0123456789") {
				numbers = append(numbers, w)
			} else {
				letters = append(letters, w)
			}
		}
	}
	address := preparedAddress{
		postalCode:   postalCode(a.PostalCode),
		street:       strings.Join(street, " "),
		houseNumbers: strings.Join(numbers, " "),
		letters:      strings.Join(letters, ""),
		city:         strings.Join(foldWords(a.City), " "),
	}
	return address, address.postalCode != "" || address.street != "" || address.city != ""
}

// compareAddresses compares every address of a with every address of b and
// returns the outcome with the highest weight, and false when no pair has a
// postal code, street or city on both sides.
func compareAddresses(a, b []preparedAddress, cfg *Config) (Kind, float64, bool) {
	var bestKind Kind
	bestWeight, found := 0.0, false
	for _, x := range a {
		for _, y := range b {
			kind, ok := compareAddress(x, y)
			if !ok {
				continue
			}
			if w := cfg.Address.level(kind).Weight(); !found || w > bestWeight {
				bestKind, bestWeight, found = kind, w, true
			}
		}
	}
	return bestKind, bestWeight, found
}

// compareAddress returns Exact for the same street in the same postal code,
// or in the same city when a postal code is missing. It returns Typo for a
// street with the same house numbers and a typo in its words, Partial for
// the same postal code on another street, and Mismatch otherwise.
func compareAddress(a, b preparedAddress) (Kind, bool) {
	bothPostal := a.postalCode != "" && b.postalCode != ""
	bothStreet := a.street != "" && b.street != ""
	bothCity := a.city != "" && b.city != ""
	if !bothPostal && !bothStreet && !bothCity {
		return "", false
	}
	samePostal := bothPostal && a.postalCode == b.postalCode
	sameArea := samePostal || (!bothPostal && bothCity && a.city == b.city)
	switch {
	case sameArea && bothStreet && a.street == b.street:
		return Exact, true
	case sameArea && bothStreet && a.houseNumbers == b.houseNumbers && isTypo(a.letters, b.letters):
		return Typo, true
	case samePostal:
		return Partial, true
	}
	return Mismatch, true
}

// compareIdentifiers compares identifiers system by system, skipping
// cfg.IgnoreSystems. A system that both persons have adds the Exact weight
// when some value is equal and the Mismatch weight otherwise. The Kind is
// Exact when any system agrees. It returns false when no system is shared.
func compareIdentifiers(a, b []Identifier, cfg *Config) (Kind, float64, bool) {
	// equal maps each shared system to whether some value agrees in it.
	var equal map[string]bool
	for _, x := range a {
		system := strings.TrimSpace(x.System)
		value := identifierValue(x.Value)
		if system == "" || value == "" || slices.Contains(cfg.IgnoreSystems, system) {
			continue
		}
		for _, y := range b {
			other := identifierValue(y.Value)
			if strings.TrimSpace(y.System) != system || other == "" {
				continue
			}
			if equal == nil {
				equal = make(map[string]bool)
			}
			equal[system] = equal[system] || value == other
		}
	}
	if len(equal) == 0 {
		return "", 0, false
	}
	kind, weight := Mismatch, 0.0
	for _, same := range equal {
		if same {
			kind = Exact
			weight += cfg.Identifier.Exact.Weight()
		} else {
			weight += cfg.Identifier.Mismatch.Weight()
		}
	}
	return kind, weight, true
}
