package match

// typoMinLength is the shortest name, in letters, that may count as a typo of
// another. Shorter names differ in one letter too often by chance (Ann and
// Ian, Li and Lu).
const typoMinLength = 4

// typoMinJaroWinkler is the Jaro-Winkler similarity from which two names
// count as a typo of each other.
const typoMinJaroWinkler = 0.9

// isTypo reports whether a and b, both at least typoMinLength letters long,
// have a Jaro-Winkler similarity of at least typoMinJaroWinkler or a
// Damerau-Levenshtein distance of at most one.
func isTypo(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) < typoMinLength || len(rb) < typoMinLength {
		return false
	}
	return withinOneEdit(ra, rb) || jaroWinkler(ra, rb) >= typoMinJaroWinkler
}

// withinOneEdit reports whether a and b are at most one insertion, deletion,
// substitution or transposition of adjacent letters apart, which is a
// Damerau-Levenshtein distance of at most one. It runs in linear time.
func withinOneEdit(a, b []rune) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(a)-len(b) > 1 {
		return false
	}
	i := 0
	for i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(b) {
		return true // equal, or a has one extra letter at the end
	}
	if len(a) != len(b) {
		return equalRunes(a[i+1:], b[i:])
	}
	if equalRunes(a[i+1:], b[i+1:]) {
		return true
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && equalRunes(a[i+2:], b[i+2:])
}

func equalRunes(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// jaroWinkler returns the Jaro-Winkler similarity of a and b in [0, 1], with
// the usual prefix scale of 0.1 over at most four leading letters, applied
// when the Jaro similarity is above 0.7.
func jaroWinkler(a, b []rune) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	window := max(len(b)/2-1, 0)

	var matchedA, matchedB []bool
	var stackA, stackB [32]bool
	if len(b) <= len(stackB) {
		matchedA, matchedB = stackA[:len(a)], stackB[:len(b)]
	} else {
		matchedA, matchedB = make([]bool, len(a)), make([]bool, len(b))
	}

	matches := 0
	for i, r := range a {
		lo, hi := max(i-window, 0), min(i+window+1, len(b))
		for j := lo; j < hi; j++ {
			if !matchedB[j] && b[j] == r {
				matchedA[i], matchedB[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}

	// Count matched letters that appear in a different order.
	outOfOrder, j := 0, 0
	for i := range a {
		if !matchedA[i] {
			continue
		}
		for !matchedB[j] {
			j++
		}
		if a[i] != b[j] {
			outOfOrder++
		}
		j++
	}

	m := float64(matches)
	jaro := (m/float64(len(a)) + m/float64(len(b)) + (m-float64(outOfOrder)/2)/m) / 3
	if jaro <= 0.7 {
		return jaro
	}
	prefix := 0
	for prefix < min(4, len(a)) && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}
