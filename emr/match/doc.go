// Package match scores how likely two patient records describe the same
// person, for the duplicate check of the master patient index at
// registration.
//
// The storage layer indexes every patient under BlockingKeys, fetches the
// patients that share a key with the new one and calls Compare on each. A
// Result at or above Config.Threshold is a likely duplicate. FromPatient
// builds the Person that both read from a FHIR R4 Patient resource.
//
// # Model
//
// Compare follows the Fellegi-Sunter model. Each field present on both
// persons has one outcome: exact, phonetic, typo, transposed, partial or
// mismatch. The outcome adds log2(m/u) bits to the total weight. Here m is
// the probability of that outcome when the records are the same person, and
// u when they are not. A field missing on either side adds nothing.
// Score is the logistic function 1 / (1 + 2^(Midpoint - weight)).
//
// Default weights in bits, rounded (see DefaultConfig for m and u):
//
//	field        exact  phonetic  typo  transposed  partial  mismatch
//	family name   +7.4      +3.7  +3.9                +3.3      -4.3
//	given name    +6.8      +3.7  +4.3                +1.0      -5.0
//	name swap                                         +6.6
//	birth date   +14.5            +5.3        +8.0    +6.5      -5.6
//	sex           +1.0                                          -4.6
//	address       +5.9            +4.6                +1.3      -1.7
//	phone         +5.9                                          -1.3
//	email         +9.2                                          -1.3
//	identifier   +19.9                                          -7.6
//
// The name weight is the family and the given name weights added, or the
// swap weight when family and given names are swapped and that weighs more.
// The identifier weights count once per identifier system that both persons
// have. The default Midpoint is 22 bits and the default Threshold 0.9, which
// needs 25.2 bits. The DefaultThreshold documentation explains the choice.
//
// The model assumes that fields are independent given the match status.
// Address and phone are not, because family members share them. So when both
// agree only the larger of the two weights counts, and the other field is
// reported with weight zero.
//
// # Comparison rules
//
// Names are folded (NFKD, combining marks dropped, lower case, apostrophes
// removed, hyphens and spaces separating words), so Müller equals Muller and
// O'Brien equals OBrien. Honorifics are dropped from given names and
// generational suffixes (Jr, III) from family names. Two words are exact when
// equal, phonetic when a Double Metaphone code of one equals a code of the
// other, and a typo when both have at least four letters and their
// Jaro-Winkler similarity is at least 0.9 or their Damerau-Levenshtein
// distance at most one. Double Metaphone is implemented here from Lawrence
// Philips' published description, and it compares whole codes, not codes
// cut to four letters. Given names are compared over all pairs, so a middle
// name used as first name agrees. An initial agrees with a name it starts as
// partial, and so does one part of a compound family name. Every name of a
// person counts, old and maiden names included, and the best pair wins.
//
// Full birth dates are exact, transposed (day and month swapped, as
// 1980-03-04 and 1980-04-03), typo (one digit differs, or the year is one
// off) or mismatch. When either date is partial (1980 or 1980-05), the dates
// are compared at the common precision and are partial when equal there.
//
// Addresses are exact for the same street in the same postal code, or in the
// same city when a postal code is missing. A US ZIP+4 code counts as its ZIP
// code, and common street words are abbreviated (Lane as ln). Phones compare
// their last ten digits, or fewer when one number is shorter, down to seven.
// An identifier compares its value without spaces, hyphens and dots, within
// the same system. Config.IgnoreSystems must list the engine's own record
// number system, whose values always differ between duplicates.
//
// # Concurrency
//
// Every function is pure: it reads only its arguments and package constants,
// and it neither logs nor keeps state. All of them are safe for concurrent
// use. Validate errors name the invalid setting and never contain patient
// data.
//
// # Known limits
//
//   - The default probabilities are estimates, not values fitted to data.
//     They were tuned on the fictitious cases of the tests, and a site should
//     refit m and u on its own reviewed duplicates.
//   - Nicknames are not recognized, so Bob and Robert are a given name
//     mismatch.
//   - Twins whose given names are one letter apart, as Mark and Mary, get a
//     typo outcome and may pass the threshold.
//   - Double Metaphone reads only the letters a-z after folding, so names in
//     other scripts can match only exactly or as a typo, and their blocking
//     keys use the folded name itself.
//   - Country and state are not compared.
//   - A duplicate with both a non-transposition birth date typo and a name
//     typo that changes the Double Metaphone code may share no blocking key
//     unless its phone, email, identifier or postal code agrees.
package match
