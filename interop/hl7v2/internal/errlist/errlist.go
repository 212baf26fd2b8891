// Package errlist formats and unwraps the error lists of the HL7 v2
// parser and of the v2-to-FHIR mapping, so both read the same way.
package errlist

import (
	"fmt"
	"strings"
)

// maxJoined is the number of errors that Join writes out before it counts the
// rest.
const maxJoined = 5

// Join writes the first five errors of list on one line, separated by
// "; ", and ends with a count of the others.
func Join[E error](list []E) string {
	parts := make([]string, 0, maxJoined+1)
	for i, e := range list {
		if i == maxJoined {
			parts = append(parts, fmt.Sprintf("and %d more", len(list)-maxJoined))
			break
		}
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "; ")
}

// Unwrap converts list to a []error, for the Unwrap method that
// errors.Is and errors.As walk.
func Unwrap[E error](list []E) []error {
	errs := make([]error, len(list))
	for i, e := range list {
		errs[i] = e
	}
	return errs
}
