package emr

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

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

// requiredField finds the element name in the validator's message
// `missing required field "status"`, which it reports at the parent's path.
var requiredField = regexp.MustCompile(`^missing required field "([A-Za-z][A-Za-z0-9]*)"$`)

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
		path := m[1]
		switch {
		case strings.Contains(m[2], "missing required"):
			code = "required"
			if f := requiredField.FindStringSubmatch(m[2]); f != nil {
				path += "." + f[1]
			}
		case strings.Contains(m[2], "unknown field"), strings.Contains(m[2], "invalid JSON"):
			code = "structure"
		}
		ve.Issues = append(ve.Issues, Issue{Path: path, Message: m[2], Code: code})
	}
	if len(ve.Issues) == 0 {
		ve.Issues = append(ve.Issues, Issue{Code: "structure", Message: "resource does not conform to FHIR R4"})
	}
	return ve
}

// maxUnknownProbes bounds the extra validations nameUnknownElements runs.
const maxUnknownProbes = 64

// elementName is the form of a FHIR element name; an unknown key of another
// form may be data and is not quoted.
var elementName = regexp.MustCompile(`^_?[A-Za-z][A-Za-z0-9_]{0,63}$`)

// nameUnknownElements finds which member of an object the validator
// reported as an unknown field, because it reports only the object's path.
// It removes one member at a time and validates again.
func nameUnknownElements(err error, tree map[string]any) error {
	ve, ok := err.(*ValidationError)
	if !ok {
		return err
	}
	probes := 0
	for i, is := range ve.Issues {
		if is.Message != "unknown field" {
			continue
		}
		obj := objectAt(tree, is.Path)
		if obj == nil {
			continue
		}
		for key, value := range obj {
			if key == "resourceType" {
				continue
			}
			if probes >= maxUnknownProbes {
				break
			}
			probes++
			delete(obj, key)
			still := unknownFieldAt(tree, is.Path)
			obj[key] = value
			if still {
				continue
			}
			if elementName.MatchString(key) {
				ve.Issues[i].Path = is.Path + "." + key
				ve.Issues[i].Message = "unknown element"
			} else {
				ve.Issues[i].Message = "unknown element with a name that is not a valid FHIR element name"
			}
			break
		}
	}
	return ve
}

// unknownFieldAt reports whether validating tree still finds an unknown
// field at path.
func unknownFieldAt(tree map[string]any, path string) bool {
	enc, err := encodeResource(tree)
	if err != nil {
		return true
	}
	verr := validateFHIR(enc.body(1, time.Unix(0, 0)))
	ve, ok := verr.(*ValidationError)
	if !ok {
		return verr != nil
	}
	for _, is := range ve.Issues {
		if is.Path == path && is.Message == "unknown field" {
			return true
		}
	}
	return false
}

// objectAt returns the JSON object at an element path such as
// "Patient.name[0]" (the first step names the resource type).
func objectAt(tree map[string]any, path string) map[string]any {
	steps := strings.Split(path, ".")
	var cur any = tree
	for _, step := range steps[1:] {
		name, index, hasIndex := strings.Cut(step, "[")
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[name]
		if hasIndex {
			n, err := strconv.Atoi(strings.TrimSuffix(index, "]"))
			list, ok := cur.([]any)
			if err != nil || !ok || n < 0 || n >= len(list) {
				return nil
			}
			cur = list[n]
		}
	}
	obj, _ := cur.(map[string]any)
	return obj
}
