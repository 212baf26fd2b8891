package emr

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	annpb "github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	extpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/extensions_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
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

// ValidationOptions are checks that ValidateWithOptions runs on top of the
// validation of every write. Their zero value adds none.
type ValidationOptions struct {
	// RejectUnknownExtensions rejects an extension whose URL is not one of
	// the FHIR R4 core extensions compiled into github.com/google/fhir/go,
	// as the HL7 Java validator does in the validator test cases (pat-dob-ext
	// in emr/testdata/validator-cases). Extensions on the example
	// domains pass unless RejectExampleURLs is set. Writes do not apply
	// this rule, because Synthea and US Core data carry extensions that
	// are not core.
	RejectUnknownExtensions bool
	// RejectExampleURLs rejects uri, url and canonical values, extension
	// URLs included, whose host is an example domain reserved by RFC 2606
	// (example.org, example.com, example.net and their subdomains), as the
	// Java validator does when examples are not allowed.
	RejectExampleURLs bool
}

// ValidateWithOptions validates body as Validate does and then applies the
// extra checks of opts.
func (s *Service) ValidateWithOptions(typ string, body []byte, opts ValidationOptions) error {
	if err := s.Validate(typ, body); err != nil {
		return err
	}
	if !opts.RejectUnknownExtensions && !opts.RejectExampleURLs {
		return nil
	}
	tree, err := decodeJSON(body)
	if err != nil {
		return err
	}
	rt, _ := tree["resourceType"].(string)
	md := resourceDescriptors()[rt]
	if md == nil {
		return nil
	}
	return checkURLs(tree, md, rt, false, opts)
}

// knownExtensions is the set of core extension URLs, read from the
// structure_definition_url annotations of the generated extension messages.
var knownExtensions = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	messages := extpb.File_proto_google_fhir_proto_r4_core_extensions_proto.Messages()
	for i := 0; i < messages.Len(); i++ {
		url, _ := proto.GetExtension(messages.Get(i).Options(), annpb.E_FhirStructureDefinitionUrl).(string)
		if url != "" {
			out[url] = true
		}
	}
	return out
})

// isExampleURL reports whether a URL's host is an RFC 2606 example domain.
func isExampleURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, domain := range []string{"example.org", "example.com", "example.net"} {
		if host == domain || strings.HasSuffix(host, "."+domain) {
			return true
		}
	}
	return false
}

// checkURLs walks obj, of type md at path, applying the URL rules of opts.
// inExtension marks the inside of an extension, whose own extensions are
// named by the parent's definition and are not checked.
func checkURLs(obj map[string]any, md protoreflect.MessageDescriptor, path string, inExtension bool, opts ValidationOptions) error {
	isExtension := md.Name() == "Extension"
	for _, key := range sortedKeys(obj) {
		el, ok := lookupElement(md, key)
		if !ok {
			continue
		}
		p := path + "." + key
		if s, ok := obj[key].(string); ok && el.typ != nil {
			switch el.typ.Name() {
			case "Uri", "Url", "Canonical":
				if opts.RejectExampleURLs && isExampleURL(s) {
					return invalid(p, "value", "example URLs are not allowed here")
				}
				if isExtension && key == "url" && !inExtension && opts.RejectUnknownExtensions &&
					!knownExtensions()[s] && (opts.RejectExampleURLs || !isExampleURL(s)) {
					return invalid(p, "structure", "the extension is not a FHIR R4 core extension, so it is not allowed here")
				}
			}
			continue
		}
		for child := range childObjects(obj[key], el) {
			itemPath := p
			if child.index >= 0 {
				itemPath = fmt.Sprintf("%s[%d]", p, child.index)
			}
			if err := checkURLs(child.obj, child.typ, itemPath, inExtension || isExtension, opts); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
