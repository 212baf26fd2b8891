package match

import (
	"slices"
	"strings"
)

// BlockingKeys returns the sorted, distinct keys under which a storage layer
// indexes p, so that the candidates for Compare are the patients that share
// at least one key with the new one. The keys are:
//
//	bd:YYYY-MM-DD       full birth date, and the date with day and month
//	                    swapped when that is a valid date
//	nm:CODE:C           Double Metaphone code (primary and alternate) of the
//	                    family name and first letter of the first given
//	                    name's primary code, and the same with family and
//	                    given name swapped
//	zip:POSTAL:CODE     postal code and family name code
//	ph:DIGITS           last seven digits of each phone number
//	em:ADDRESS          each email address, lower case
//	id:SYSTEM|VALUE     each identifier, with the value normalized
//
// A duplicate whose name or birth date differs within the tolerance of
// Compare shares a key with the original: a name typo or phonetic variant
// keeps the bd key, and a birth date typo or transposition keeps the nm key.
//
// The keys contain patient data, so they must be stored and protected like
// the fields they come from, and never logged.
func BlockingKeys(p Person) []string {
	prepared := prepare(p)
	var keys []string
	if prepared.birthDate.precision == precisionDay {
		keys = append(keys, "bd:"+prepared.birthDate.String())
		if t, ok := prepared.birthDate.transposed(); ok {
			keys = append(keys, "bd:"+t.String())
		}
	}
	for _, n := range prepared.names {
		keys = appendNameKeys(keys, n, prepared.addresses)
	}
	for _, phone := range prepared.phones {
		keys = append(keys, "ph:"+phone[len(phone)-phoneMinDigits:])
	}
	for _, email := range prepared.emails {
		keys = append(keys, "em:"+email)
	}
	for _, id := range p.Identifiers {
		system, value := strings.TrimSpace(id.System), identifierValue(id.Value)
		if system != "" && value != "" {
			keys = append(keys, "id:"+system+"|"+value)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func appendNameKeys(keys []string, n preparedName, addresses []preparedAddress) []string {
	var first word
	if len(n.given) > 0 {
		first = n.given[0]
	}
	for _, code := range codes(n.family) {
		keys = append(keys, "nm:"+code+":"+initial(first))
		for _, a := range addresses {
			if a.postalCode != "" {
				keys = append(keys, "zip:"+a.postalCode+":"+code)
			}
		}
	}
	for _, code := range codes(first) {
		if n.family.text != "" {
			keys = append(keys, "nm:"+code+":"+initial(n.family))
		}
	}
	return keys
}

// codes returns the distinct non-empty Double Metaphone codes of w cut to
// blockingCodeLength, or its folded text when it has none, as for a name in
// a non-Latin script.
func codes(w word) []string {
	switch {
	case w.primary == "" && w.text == "":
		return nil
	case w.primary == "":
		return []string{w.text}
	}
	primary, alternate := cut(w.primary), cut(w.alternate)
	if alternate == "" || alternate == primary {
		return []string{primary}
	}
	return []string{primary, alternate}
}

func cut(code string) string {
	if len(code) > blockingCodeLength {
		return code[:blockingCodeLength]
	}
	return code
}

// initial returns the first letter of the primary code of w, or of its text
// when it has no code.
func initial(w word) string {
	if w.primary != "" {
		return w.primary[:1]
	}
	for _, r := range w.text {
		return string(r)
	}
	return ""
}
