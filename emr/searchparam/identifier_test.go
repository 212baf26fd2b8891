package searchparam_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

func TestHoldsIdentifiers(t *testing.T) {
	t.Parallel()
	reg := searchparam.R4()
	cases := []struct {
		resourceType string
		param        string
		want         bool
	}{
		{"Patient", "identifier", true},
		{"Patient", "identifier:of-type", true},
		{"Encounter", "identifier", true},
		{"Claim", "identifier", true},
		{"Specimen", "accession", true},
		{"ServiceRequest", "requisition", true},
		{"Task", "group-identifier", true},
		{"DocumentReference", "identifier", true},
		{"Composition", "related-id", true},
		{"Observation", "subject:identifier", true},
		{"Observation", "performer:identifier", true},
		{"Patient", "gender", false},
		{"Patient", "phone", false},
		{"Observation", "code", false},
		{"Patient", "no-such-param:of-type", false},
		{"Patient", "no-such-param", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, reg.HoldsIdentifiers(c.resourceType, c.param), "%s %s", c.resourceType, c.param)
	}
}

// TestIdentifierEntriesMatchHoldsIdentifiers checks that Extract marks
// exactly the entries of the parameters that HoldsIdentifiers names, so a
// store hashes rows and conditions alike.
func TestIdentifierEntriesMatchHoldsIdentifiers(t *testing.T) {
	t.Parallel()
	reg := searchparam.R4()
	resources := map[string]string{
		"Patient": `{"resourceType":"Patient","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"SS"}]},` +
			`"system":"http://hl7.org/fhir/sid/us-ssn","value":"999-00-1111"}],"telecom":[{"system":"phone","value":"555-0100"}],` +
			`"generalPractitioner":[{"identifier":{"system":"urn:npi","value":"1234"}}],"gender":"female"}`,
		"Specimen": `{"resourceType":"Specimen","accessionIdentifier":{"value":"ACC-1"},"container":[{"identifier":[{"value":"C-1"}]}],` +
			`"subject":{"reference":"Patient/p1"}}`,
		"Task": `{"resourceType":"Task","status":"requested","intent":"order","groupIdentifier":{"value":"G-1"},` +
			`"identifier":[{"value":"T-1"}],"for":{"identifier":{"value":"MRN-1"}}}`,
	}
	for typ, body := range resources {
		var tree map[string]any
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&tree))
		entries, err := reg.Extract(typ, tree)
		require.NoError(t, err, typ)
		marked := 0
		for _, e := range entries {
			assert.Equal(t, reg.HoldsIdentifiers(typ, e.Param), e.Identifier, "%s %s", typ, e.Param)
			if e.Identifier {
				marked++
				assert.Equal(t, searchparam.TypeToken, e.Type, "%s %s", typ, e.Param)
			}
		}
		assert.Positive(t, marked, typ)
	}
}
