package searchparam_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// These resources cover types and value forms that the Synthea bundle does
// not have. They are written for these tests.
const (
	medicationRequestJSON = `{
  "resourceType": "MedicationRequest", "id": "mr1", "status": "active", "intent": "order",
  "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "code": "834061", "display": "Penicillin V Potassium 250 MG Oral Tablet"}]},
  "subject": {"reference": "Patient/p1"},
  "authoredOn": "2019-02-03T10:00:00-08:00",
  "requester": {"reference": "https://ehr.example.org/fhir/Practitioner/dr1/_history/4"}
}`
	medicationReferenceJSON = `{
  "resourceType": "MedicationRequest", "id": "mr2", "status": "active", "intent": "order",
  "medicationReference": {"reference": "Medication/med1"},
  "subject": {"reference": "Group/g1"}
}`
	carePlanJSON = `{
  "resourceType": "CarePlan", "id": "cp1", "status": "active", "intent": "plan",
  "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "698360004"}], "text": "Diabetes plan"}],
  "subject": {"reference": "Patient/p1"},
  "period": {"start": "2019-03"},
  "instantiatesCanonical": ["http://example.org/fhir/PlanDefinition/diabetes|1.0"],
  "activity": [
    {"detail": {"status": "scheduled", "scheduledTiming": {
      "event": ["2019-03-05", "2019-03-01T09:00:00Z"],
      "repeat": {"boundsPeriod": {"start": "2019-02-20", "end": "2019-04-30"}}}}},
    {"detail": {"status": "scheduled", "scheduledString": "every morning"}}
  ]
}`
	goalJSON = `{
  "resourceType": "Goal", "id": "g1",
  "lifecycleStatus": "active",
  "description": {"text": "Lose weight"},
  "subject": {"reference": "Patient/p1"},
  "startDate": "2019-03-01",
  "target": [{"dueDate": "2019-12-31"}, {"dueDuration": {"value": 6, "unit": "months"}}]
}`
	allergyJSON = `{
  "resourceType": "AllergyIntolerance", "id": "a1",
  "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
    "code": "active"}]},
  "criticality": "high",
  "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91936005",
    "display": "Allergy to penicillin"}]},
  "patient": {"reference": "Patient/p1"},
  "recordedDate": "2015",
  "reaction": [{"onset": "2014-06-01T12:00:00+09:00"}]
}`
	imagingStudyJSON = `{
  "resourceType": "ImagingStudy", "id": "is1", "status": "available",
  "identifier": [{"system": "urn:dicom:uid", "value": "urn:oid:2.16.124.113543.6003.1154777499.30246.19789.3503430045"}],
  "subject": {"reference": "Patient/p1"},
  "started": "2017-01-01T11:01:20+03:00",
  "series": [{"uid": "2.16.124.113543.6003.2588828330.45298.17418.2723805630",
    "modality": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "CT"},
    "bodySite": {"system": "http://snomed.info/sct", "code": "67734004", "display": "Upper Trunk Structure"},
    "instance": [{"uid": "2.16.124.113543.6003.189642796.63084.16748.2599092903",
      "sopClass": {"system": "urn:ietf:rfc:3986", "code": "urn:oid:1.2.840.10008.5.1.4.1.1.2"}}]}]
}`
	chargeItemJSON = `{
  "resourceType": "ChargeItem", "id": "ci1", "status": "billable",
  "code": {"text": "Consultation"},
  "subject": {"reference": "Patient/p1"},
  "factorOverride": 0.80,
  "priceOverride": {"value": 40, "currency": "EUR"}
}`
	observationUnitJSON = `{
  "resourceType": "Observation", "id": "o1", "status": "final",
  "code": {"text": "Weight"},
  "valueQuantity": {"value": 1.2E+2, "unit": "lb"},
  "effectivePeriod": {"end": "2020-05-01T08:00:00+01:00"}
}`
	greekPatientJSON = `{
  "resourceType": "Patient", "id": "gr1",
  "name": [{"family": "ΠΑΠΑΔΟΠΟΎΛΟΥ", "given": ["Zoe\u0308"]}],
  "telecom": [{"system": "email", "value": "zoe@example.org"}],
  "deceasedBoolean": false,
  "link": [{"other": {"reference": "#rp"}, "type": "seealso"}],
  "managingOrganization": {"identifier": {"system": "urn:org", "value": "1"}}
}`
)

func TestExtractTypes(t *testing.T) {
	t.Parallel()
	reg := searchparam.R4()
	tests := []struct {
		name     string
		resource string
		param    string
		want     []searchparam.Entry
	}{
		{"MedicationRequest code", medicationRequestJSON, "code", []searchparam.Entry{
			tokenEntry("code", "http://www.nlm.nih.gov/research/umls/rxnorm", "834061",
				"Penicillin V Potassium 250 MG Oral Tablet")}},
		{"MedicationRequest medication as concept", medicationRequestJSON, "medication", nil},
		{"MedicationRequest authoredon zone", medicationRequestJSON, "authoredon", []searchparam.Entry{
			dateEntry("authoredon", "2019-02-03T18:00:00Z", "2019-02-03T18:00:01Z")}},
		{"MedicationRequest patient", medicationRequestJSON, "patient", []searchparam.Entry{
			refEntry("patient", "Patient", "p1")}},
		{"MedicationRequest intent", medicationRequestJSON, "intent", []searchparam.Entry{
			tokenEntry("intent", "", "order", "")}},
		{"MedicationRequest absolute versioned requester", medicationRequestJSON, "requester", []searchparam.Entry{{
			Param: "requester", Type: searchparam.TypeReference,
			Exact:   "https://ehr.example.org/fhir/Practitioner/dr1/_history/4",
			RefType: "Practitioner", RefID: "dr1", RefVersion: "4"}}},
		{"MedicationRequest medication reference", medicationReferenceJSON, "medication", []searchparam.Entry{
			refEntry("medication", "Medication", "med1")}},
		{"MedicationRequest code as reference", medicationReferenceJSON, "code", nil},
		{"MedicationRequest patient is group", medicationReferenceJSON, "patient", nil},
		{"MedicationRequest subject group", medicationReferenceJSON, "subject", []searchparam.Entry{
			refEntry("subject", "Group", "g1")}},

		{"CarePlan date open end", carePlanJSON, "date", []searchparam.Entry{{
			Param: "date", Type: searchparam.TypeDate, DateLo: micros("2019-03-01T00:00:00Z"), DateHi: math.MaxInt64}}},
		{"CarePlan activity-date timing", carePlanJSON, "activity-date", []searchparam.Entry{
			dateEntry("activity-date", "2019-02-20T00:00:00Z", "2019-05-01T00:00:00Z")}},
		{"CarePlan category", carePlanJSON, "category", []searchparam.Entry{
			tokenEntry("category", "http://snomed.info/sct", "698360004", ""), textEntry("category", "Diabetes plan")}},
		{"CarePlan canonical", carePlanJSON, "instantiates-canonical", []searchparam.Entry{{
			Param: "instantiates-canonical", Type: searchparam.TypeReference,
			Exact: "http://example.org/fhir/PlanDefinition/diabetes|1.0"}}},

		{"Goal start-date", goalJSON, "start-date", []searchparam.Entry{
			dateEntry("start-date", "2019-03-01T00:00:00Z", "2019-03-02T00:00:00Z")}},
		{"Goal target-date", goalJSON, "target-date", []searchparam.Entry{
			dateEntry("target-date", "2019-12-31T00:00:00Z", "2020-01-01T00:00:00Z")}},
		{"Goal lifecycle-status", goalJSON, "lifecycle-status", []searchparam.Entry{
			tokenEntry("lifecycle-status", "", "active", "")}},

		{"AllergyIntolerance code", allergyJSON, "code", []searchparam.Entry{
			tokenEntry("code", "http://snomed.info/sct", "91936005", "Allergy to penicillin")}},
		{"AllergyIntolerance date year", allergyJSON, "date", []searchparam.Entry{
			dateEntry("date", "2015-01-01T00:00:00Z", "2016-01-01T00:00:00Z")}},
		{"AllergyIntolerance onset zone", allergyJSON, "onset", []searchparam.Entry{
			dateEntry("onset", "2014-06-01T03:00:00Z", "2014-06-01T03:00:01Z")}},
		{"AllergyIntolerance criticality", allergyJSON, "criticality", []searchparam.Entry{
			tokenEntry("criticality", "", "high", "")}},
		{"AllergyIntolerance patient", allergyJSON, "patient", []searchparam.Entry{
			refEntry("patient", "Patient", "p1")}},

		{"ImagingStudy modality", imagingStudyJSON, "modality", []searchparam.Entry{
			tokenEntry("modality", "http://dicom.nema.org/resources/ontology/DCM", "CT", "")}},
		{"ImagingStudy bodysite", imagingStudyJSON, "bodysite", []searchparam.Entry{
			tokenEntry("bodysite", "http://snomed.info/sct", "67734004", "Upper Trunk Structure")}},
		{"ImagingStudy instance", imagingStudyJSON, "instance", []searchparam.Entry{
			tokenEntry("instance", "", "2.16.124.113543.6003.189642796.63084.16748.2599092903", "")}},
		{"ImagingStudy started", imagingStudyJSON, "started", []searchparam.Entry{
			dateEntry("started", "2017-01-01T08:01:20Z", "2017-01-01T08:01:21Z")}},
		{"ImagingStudy identifier", imagingStudyJSON, "identifier", []searchparam.Entry{
			identifierEntry("identifier", "urn:dicom:uid",
				"urn:oid:2.16.124.113543.6003.1154777499.30246.19789.3503430045")}},

		{"ChargeItem money", chargeItemJSON, "price-override", []searchparam.Entry{{
			Param: "price-override", Type: searchparam.TypeQuantity, Num: 40, NumLo: 39.5, NumHi: 40.5,
			System: "urn:iso:std:iso:4217", Code: "EUR"}}},
		{"ChargeItem number", chargeItemJSON, "factor-override", []searchparam.Entry{{
			Param: "factor-override", Type: searchparam.TypeNumber, Num: 0.8, NumLo: 0.795, NumHi: 0.805}}},
		{"ChargeItem code text only", chargeItemJSON, "code", []searchparam.Entry{textEntry("code", "Consultation")}},

		{"Observation unit fallback", observationUnitJSON, "value-quantity", []searchparam.Entry{{
			Param: "value-quantity", Type: searchparam.TypeQuantity, Num: 120, NumLo: 115, NumHi: 125, Code: "lb"}}},
		{"Observation period open start", observationUnitJSON, "date", []searchparam.Entry{{
			Param: "date", Type: searchparam.TypeDate, DateLo: math.MinInt64, DateHi: micros("2020-05-01T07:00:01Z")}}},

		{"Patient Greek family", greekPatientJSON, "family", []searchparam.Entry{{
			Param: "family", Type: searchparam.TypeString, Text: "παπαδοπουλου", Exact: "ΠΑΠΑΔΟΠΟΎΛΟΥ"}}},
		{"Patient combining given", greekPatientJSON, "given", []searchparam.Entry{{
			Param: "given", Type: searchparam.TypeString, Text: "zoe", Exact: "Zoë"}}},
		{"Patient email", greekPatientJSON, "email", []searchparam.Entry{
			tokenEntry("email", "email", "zoe@example.org", "")}},
		{"Patient phone absent", greekPatientJSON, "phone", nil},
		{"Patient deceased false", greekPatientJSON, "deceased", []searchparam.Entry{
			tokenEntry("deceased", "", "false", "")}},
		{"Patient contained link", greekPatientJSON, "link", []searchparam.Entry{{
			Param: "link", Type: searchparam.TypeReference, Exact: "#rp"}}},
		{"Patient identifier-only reference", greekPatientJSON, "organization", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resource := decodeJSON(t, []byte(tt.resource))
			entries, err := reg.Extract(resource["resourceType"].(string), resource)
			require.NoError(t, err)
			assert.ElementsMatch(t, tt.want, entriesOf(entries, tt.param))
		})
	}
}

func TestExtractInvalidValue(t *testing.T) {
	t.Parallel()
	const secretName = "Wolfeschlegelsteinhausen"
	resource := decodeJSON(t, []byte(`{"resourceType": "Patient", "id": "p1",
		"name": [{"family": "`+secretName+`"}], "birthDate": "1973-13-01"}`))
	entries, err := searchparam.R4().Extract("Patient", resource)
	require.ErrorIs(t, err, searchparam.ErrInvalidValue)
	assert.Contains(t, err.Error(), "birthdate")
	assert.NotContains(t, err.Error(), "1973")
	assert.NotContains(t, err.Error(), secretName)
	assert.Empty(t, entriesOf(entries, "birthdate"))
	assert.Len(t, entriesOf(entries, "family"), 1, "valid values are still extracted")
}

func TestExtractResourceTypeMismatch(t *testing.T) {
	t.Parallel()
	resource := decodeJSON(t, []byte(`{"resourceType": "Patient", "id": "p1"}`))
	_, err := searchparam.R4().Extract("Observation", resource)
	assert.Error(t, err)
}

func TestExtractTypeWithoutOwnParameters(t *testing.T) {
	t.Parallel()
	resource := decodeJSON(t, []byte(`{"resourceType": "Binary", "id": "b1",
		"meta": {"lastUpdated": "2024-01-02T03:04:05Z"}, "contentType": "text/plain"}`))
	entries, err := searchparam.R4().Extract("Binary", resource)
	require.NoError(t, err)
	assert.ElementsMatch(t, []searchparam.Entry{
		tokenEntry("_id", "", "b1", ""),
		dateEntry("_lastUpdated", "2024-01-02T03:04:05Z", "2024-01-02T03:04:06Z"),
	}, entries)
}
