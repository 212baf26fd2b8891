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
