package match

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const patientJSON = `{
  "resourceType": "Patient",
  "identifier": [
    {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "900-12-3456"},
    {"value": "no system"},
    {"system": "urn:oid:1.2.3", "value": 42}
  ],
  "name": [
    {"use": "official", "family": "Whitaker", "given": ["Catherine", "Anne"], "prefix": ["Dr"]},
    {"use": "old", "family": "Brooks", "given": ["Catherine"]},
    {"text": "Cathy Q Whitaker"},
    {"use": "nickname"}
  ],
  "telecom": [
    {"system": "phone", "value": "+1 217 555 0142", "use": "home"},
    {"system": "sms", "value": "217-555-0199"},
    {"system": "email", "value": "c.whitaker@example.org"},
    {"system": "fax", "value": "217 555 0100"},
    {"system": "phone"}
  ],
  "gender": "female",
  "birthDate": "1980-03-04",
  "address": [
    {"line": ["12 Orchard Lane", "Apt 3"], "city": "Springfield", "state": "IL",
     "postalCode": "62704", "country": "US"},
    {"state": "IL"},
    "not an address"
  ]
}`

func decodePatient(t *testing.T, text string) map[string]any {
	t.Helper()
	decoder := json.NewDecoder(strings.NewReader(text))
	decoder.UseNumber()
	var patient map[string]any
	require.NoError(t, decoder.Decode(&patient))
	return patient
}

func TestFromPatient(t *testing.T) {
	t.Parallel()
	p := FromPatient(decodePatient(t, patientJSON))

	assert.Equal(t, []Name{
		{Family: "Whitaker", Given: []string{"Catherine", "Anne"}},
		{Family: "Brooks", Given: []string{"Catherine"}},
		{Family: "Whitaker", Given: []string{"Cathy", "Q"}},
	}, p.Names)
	assert.Equal(t, "1980-03-04", p.BirthDate)
	assert.Equal(t, "female", p.Sex)
	assert.Equal(t, []Address{{
		Lines:      []string{"12 Orchard Lane", "Apt 3"},
		City:       "Springfield",
		State:      "IL",
		PostalCode: "62704",
		Country:    "US",
	}}, p.Addresses)
	assert.Equal(t, []string{"+1 217 555 0142", "217-555-0199"}, p.Phones)
	assert.Equal(t, []string{"c.whitaker@example.org"}, p.Emails)
	assert.Equal(t, []Identifier{{System: "http://hl7.org/fhir/sid/us-ssn", Value: "900-12-3456"}}, p.Identifiers)
}

func TestFromPatientWrongTypes(t *testing.T) {
	t.Parallel()
	p := FromPatient(decodePatient(t, `{"name": "Whitaker", "birthDate": 1980, "gender": ["female"],
		"address": {"city": "Springfield"}, "telecom": [1, 2], "identifier": null}`))
	assert.Equal(t, Person{}, p)
}

func TestFromPatientNil(t *testing.T) {
	t.Parallel()
	assert.Equal(t, Person{}, FromPatient(nil))
}
