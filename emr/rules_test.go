package emr

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLooksLikeMarkup(t *testing.T) {
	cases := []struct {
		text string
		want bool
	}{
		{text: "<script>alert(1)</script>", want: true},
		{text: "see <b>this</b>", want: true},
		{text: "<!-- comment -->", want: true},
		{text: "</p>", want: true},
		{text: "tumour < 5 cm", want: false},
		{text: "<5 cm", want: false},
		{text: "a <= b", want: false},
		{text: "plain text", want: false},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			assert.Equal(t, tc.want, looksLikeMarkup(tc.text))
		})
	}
}

func TestBundleRules(t *testing.T) {
	cases := []struct {
		name string
		body string
		ok   bool
	}{
		{name: "restful fullUrl matches", ok: true,
			body: `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://x/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1"}}]}`},
		{name: "restful fullUrl names another id",
			body: `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://x/fhir/Patient/2","resource":{"resourceType":"Patient","id":"1"}}]}`},
		{name: "relative fullUrl",
			body: `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"Patient/1","resource":{"resourceType":"Patient","id":"1"}}]}`},
		{name: "urn fullUrl", ok: true,
			body: `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:5b5d9a5e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient"}}]}`},
		{name: "two self links",
			body: `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"http://x/a"},{"relation":"self","url":"http://x/b"}]}`},
		{name: "search result without id",
			body: `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://x/fhir/Patient/1","resource":{"resourceType":"Patient"},"search":{"mode":"match"}}]}`},
		{name: "collection entry without id",
			body: `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://x/nothing","resource":{"resourceType":"Basic","code":{"text":"a"}}}]}`},
		{name: "searchset outcome without id", ok: true,
			body: `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://x/nothing","resource":{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}}]}`},
		{name: "transaction entry without id", ok: true,
			body: `{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"http://x/fhir/Basic/b","resource":{"resourceType":"Basic","code":{"text":"a"}},"request":{"method":"POST","url":"Basic"}}]}`},
		{name: "contained bundle with relative fullUrl",
			body: `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:5b5d9a5e-0000-4000-8000-000000000002","resource":{"resourceType":"Basic","code":{"text":"a"},` +
				`"contained":[{"resourceType":"Bundle","id":"c","type":"collection","entry":[{"fullUrl":"Patient/1","resource":{"resourceType":"Patient","id":"1"}}]}]}}]}`},
		{name: "document reference to missing version",
			body: documentBundle(`Observation/o/_history/3`)},
		{name: "document reference matching two versions",
			body: documentBundle(`Observation/o`)},
		{name: "document reference to a version", ok: true,
			body: documentBundle(`Observation/o/_history/2`)},
		{name: "outcome entry of another type",
			body: `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"1"},"search":{"mode":"outcome"}}]}`},
	}
	svc, err := NewService(nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := svc.Validate("Bundle", []byte(tc.body))
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrInvalid)
			}
		})
	}
}

// documentBundle returns a document Bundle whose Composition refers to ref
// and which carries versions 1 and 2 of Observation/o.
func documentBundle(ref string) string {
	observation := func(version string) string {
		return `{"fullUrl":"http://x/fhir/Observation/o","resource":{"resourceType":"Observation","id":"o",` +
			`"meta":{"versionId":"` + version + `"},"status":"final","code":{"text":"t"}}}`
	}
	return `{"resourceType":"Bundle","type":"document","identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:5b5d9a5e-0000-4000-8000-000000000003"},` +
		`"timestamp":"2024-12-01T13:28:17Z","entry":[` +
		`{"fullUrl":"http://x/fhir/Composition/c","resource":{"resourceType":"Composition","id":"c","status":"final",` +
		`"type":{"text":"note"},"date":"2024-12-01","title":"t","author":[{"display":"a"}],` +
		`"section":[{"entry":[{"reference":"` + ref + `"}]}]}},` +
		observation("1") + "," + observation("2") + `]}`
}

func TestValidateWithOptions(t *testing.T) {
	svc, err := NewService(nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	withExtension := func(url string) string {
		return `{"resourceType":"Patient","extension":[{"url":"` + url + `","valueString":"x"}]}`
	}
	cases := []struct {
		name string
		body string
		opts ValidationOptions
		ok   bool
	}{
		{name: "unknown extension allowed by default", body: withExtension("http://other.test/ext"), ok: true},
		{name: "unknown extension rejected", body: withExtension("http://other.test/ext"), opts: ValidationOptions{RejectUnknownExtensions: true}},
		{name: "core extension", body: withExtension("http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"),
			opts: ValidationOptions{RejectUnknownExtensions: true}, ok: true},
		{name: "example extension allowed", body: withExtension("http://example.org/ext"),
			opts: ValidationOptions{RejectUnknownExtensions: true}, ok: true},
		{name: "example extension rejected", body: withExtension("http://example.org/ext"),
			opts: ValidationOptions{RejectUnknownExtensions: true, RejectExampleURLs: true}},
		{name: "example identifier system rejected",
			body: `{"resourceType":"Patient","identifier":[{"system":"http://www.example.com/ids","value":"1"}]}`,
			opts: ValidationOptions{RejectExampleURLs: true}},
		{name: "other identifier system", ok: true,
			body: `{"resourceType":"Patient","identifier":[{"system":"http://hospital.test/ids","value":"1"}]}`,
			opts: ValidationOptions{RejectExampleURLs: true}},
		{name: "sub-extensions are not checked", ok: true,
			body: `{"resourceType":"Patient","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-citizenship",` +
				`"extension":[{"url":"code","valueCodeableConcept":{"text":"x"}}]}]}`,
			opts: ValidationOptions{RejectUnknownExtensions: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := svc.ValidateWithOptions("Patient", []byte(tc.body), tc.opts)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrInvalid)
			}
		})
	}
}
