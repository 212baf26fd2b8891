package emr

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeRejectsNonFHIRJSON(t *testing.T) {
	cases := []struct {
		name      string
		body      string
		path      string
		malformed bool
	}{
		{name: "null member", body: `{"resourceType":"Patient","name":null}`, path: "Patient.name"},
		{name: "empty array", body: `{"resourceType":"Patient","telecom":[]}`, path: "Patient.telecom"},
		{name: "empty object", body: `{"resourceType":"Patient","address":[{}]}`, path: "Patient.address[0]"},
		{name: "null in array", body: `{"resourceType":"Patient","contact":[null]}`, path: "Patient.contact[0]"},
		{name: "empty string", body: `{"resourceType":"Patient","name":[{"family":""}]}`, path: "Patient.name[0].family"},
		{name: "duplicate member", body: `{"resourceType":"Patient","gender":"male","gender":"female"}`, malformed: true},
		{name: "nested duplicate", body: `{"resourceType":"Patient","name":[{"family":"a","family":"b"}]}`, malformed: true},
		{name: "lone high surrogate", body: `{"resourceType":"Patient","name":[{"family":"a\ud800b"}]}`, malformed: true},
		{name: "lone low surrogate", body: `{"resourceType":"Patient","name":[{"family":"a\udc00b"}]}`, malformed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeJSON([]byte(tc.body))
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "%v", err)
			assert.Equal(t, tc.malformed, ve.Malformed)
			if tc.path != "" {
				assert.Equal(t, tc.path, ve.Issues[0].Path)
			}
		})
	}
}

func TestDecodeAcceptsFHIRJSON(t *testing.T) {
	cases := []struct {
		name string
		body string
	}{
		{name: "primitive extension placeholders", body: `{"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"extension":[{"url":"http://x","valueString":"y"}]}]}]}`},
		{name: "surrogate pair", body: `{"resourceType":"Patient","name":[{"family":"\ud83d\ude00"}]}`},
		{name: "escaped backslash before u", body: `{"resourceType":"Patient","name":[{"family":"a\\ud800"}]}`},
		{name: "same member in sibling objects", body: `{"resourceType":"Patient","name":[{"family":"a"},{"family":"b"}],"address":[{"city":"x"}]}`},
		{name: "member after nested array", body: `{"resourceType":"Patient","name":[{"given":["a"],"family":"b"}],"gender":"male"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeJSON([]byte(tc.body))
			assert.NoError(t, err)
		})
	}
}

func TestDecodeNormalizesToNFC(t *testing.T) {
	tree, err := decodeJSON([]byte(`{"resourceType":"Patient","name":[{"family":"Mu\u0308ller","given":["Zoe\u0308"]}]}`))
	require.NoError(t, err)
	name := tree["name"].([]any)[0].(map[string]any)
	assert.Equal(t, "M\u00fcller", name["family"])
	assert.Equal(t, "Zo\u00eb", name["given"].([]any)[0])
}
