package emr

import (
	"regexp"
	"strings"
	"sync"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
)

var (
	unmarshallerOnce sync.Once
	unmarshaller     *jsonformat.Unmarshaller
	unmarshallerErr  error
)

// validator returns the shared github.com/google/fhir/go unmarshaller,
// which holds no per-call state and is safe for concurrent use.
func validator() (*jsonformat.Unmarshaller, error) {
	unmarshallerOnce.Do(func() {
		unmarshaller, unmarshallerErr = jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	})
	return unmarshaller, unmarshallerErr
}

// errorLine is one error of github.com/google/fhir/go: `error at "PATH":
// DETAILS`. Its text excludes the library's diagnostics part, which may
// quote input values.
var errorLine = regexp.MustCompile(`^error at "([^"]*)": (.*)$`)

// validateFHIR checks body against the FHIR R4 structure definitions
// compiled into github.com/google/fhir/go: element names, datatypes,
// cardinality of required elements, primitive formats, code values of
// required bindings and reference target types.
func validateFHIR(body []byte) error {
	u, err := validator()
	if err != nil {
		return err
	}
	if _, err := u.Unmarshal(body); err != nil {
		return toValidationError(err)
	}
	return nil
}

func toValidationError(err error) error {
	ve := &ValidationError{}
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		m := errorLine.FindStringSubmatch(line)
		if m == nil {
			// Not the library's located form; its text is not known to be
			// free of input values, so it is not passed on.
			ve.Issues = append(ve.Issues, Issue{Code: "structure", Message: "resource does not conform to FHIR R4"})
			continue
		}
		code := "value"
		switch {
		case strings.Contains(m[2], "missing required"):
			code = "required"
		case strings.Contains(m[2], "unknown field"), strings.Contains(m[2], "invalid JSON"):
			code = "structure"
		}
		ve.Issues = append(ve.Issues, Issue{Path: m[1], Message: m[2], Code: code})
	}
	if len(ve.Issues) == 0 {
		ve.Issues = append(ve.Issues, Issue{Code: "structure", Message: "resource does not conform to FHIR R4"})
	}
	return ve
}
