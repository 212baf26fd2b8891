package searchparam_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

const (
	patientID      = "d78af07c-9cb9-4f31-9b11-c45a28f2eec8"
	organizationID = "6f122869-a856-3d65-8db9-099bf4f5bbb8"
	practitionerID = "0e99785d-8f2a-45c7-848c-d6b31d1aa50e"
	encounterID    = "afcee359-ffbb-4ae0-b54f-547eb3c58e68"
	claimID        = "a93b70f2-c9a6-4dbd-9ed6-8f7c350f85af"

	loinc  = "http://loinc.org"
	snomed = "http://snomed.info/sct"
	ucum   = "http://unitsofmeasure.org"
)

func TestExtractSynthea(t *testing.T) {
	t.Parallel()
	resources := loadBundle(t, true)
	reg := searchparam.R4()
	tests := []struct {
		name         string
		resourceType string
		id           string
		param        string
		want         []searchparam.Entry
	}{
		{"Patient name", "Patient", patientID, "name", []searchparam.Entry{
			strEntry("name", "Kreiger"), strEntry("name", "Clemente"), strEntry("name", "Mr.")}},
		{"Patient family", "Patient", patientID, "family", []searchparam.Entry{strEntry("family", "Kreiger")}},
		{"Patient given", "Patient", patientID, "given", []searchparam.Entry{strEntry("given", "Clemente")}},
		{"Patient birthdate", "Patient", patientID, "birthdate", []searchparam.Entry{
			dateEntry("birthdate", "1984-07-02T00:00:00Z", "1984-07-03T00:00:00Z")}},
		{"Patient gender", "Patient", patientID, "gender", []searchparam.Entry{
			tokenEntry("gender", "", "male", "")}},
		{"Patient identifier", "Patient", patientID, "identifier", []searchparam.Entry{
			identifierEntry("identifier", "https://github.com/synthetichealth/synthea", "1484a42d-0eaf-4654-9cbf-6b050a5cd73b"),
			identifierEntry("identifier", "http://hospital.smarthealthit.org", "1484a42d-0eaf-4654-9cbf-6b050a5cd73b"),
			identifierEntry("identifier", "http://hl7.org/fhir/sid/us-ssn", "999-48-8934"),
			identifierEntry("identifier", "urn:oid:2.16.840.1.113883.4.3.25", "S99922788"),
			identifierEntry("identifier", "http://standardhealthrecord.org/fhir/StructureDefinition/passportNumber",
				"X14485831X"),
		}},
		{"Patient address-city", "Patient", patientID, "address-city", []searchparam.Entry{
			strEntry("address-city", "Wilmington")}},
		{"Patient address", "Patient", patientID, "address", []searchparam.Entry{
			strEntry("address", "931 Doyle Corner Apt 89"), strEntry("address", "Wilmington"),
			strEntry("address", "Massachusetts"), strEntry("address", "01887"), strEntry("address", "US")}},
		{"Patient phone", "Patient", patientID, "phone", []searchparam.Entry{
			tokenEntry("phone", "phone", "555-767-7476", "")}},
		{"Patient email absent", "Patient", patientID, "email", nil},
		{"Patient language", "Patient", patientID, "language", []searchparam.Entry{
			tokenEntry("language", "urn:ietf:bcp:47", "zh", "Chinese"), textEntry("language", "Chinese")}},
		{"Patient _id", "Patient", patientID, "_id", []searchparam.Entry{tokenEntry("_id", "", patientID, "")}},
		{"Patient _tag", "Patient", patientID, "_tag", []searchparam.Entry{
			tokenEntry("_tag", "https://smarthealthit.org/tags", "synthea-5-2019", "")}},

		{"Encounter date", "Encounter", encounterID, "date", []searchparam.Entry{
			dateEntry("date", "2012-09-10T15:29:24Z", "2012-09-10T15:44:25Z")}},
		{"Encounter class", "Encounter", encounterID, "class", []searchparam.Entry{
			tokenEntry("class", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "")}},
		{"Encounter subject", "Encounter", encounterID, "subject", []searchparam.Entry{
			refEntry("subject", "Patient", patientID)}},
		{"Encounter patient", "Encounter", encounterID, "patient", []searchparam.Entry{
			refEntry("patient", "Patient", patientID)}},
		{"Encounter type", "Encounter", encounterID, "type", []searchparam.Entry{
			tokenEntry("type", snomed, "185349003", "Encounter for check up (procedure)"),
			textEntry("type", "Encounter for check up (procedure)")}},
		{"Encounter practitioner", "Encounter", encounterID, "practitioner", []searchparam.Entry{
			refEntry("practitioner", "Practitioner", practitionerID)}},
		{"Encounter service-provider", "Encounter", encounterID, "service-provider", []searchparam.Entry{
			refEntry("service-provider", "Organization", organizationID)}},

		{"Observation code", "Observation", "2fff439b-abfd-42a4-b17c-07f2cc59fbc9", "code", []searchparam.Entry{
			tokenEntry("code", loinc, "8302-2", "Body Height"), textEntry("code", "Body Height")}},
		{"Observation date", "Observation", "2fff439b-abfd-42a4-b17c-07f2cc59fbc9", "date", []searchparam.Entry{
			dateEntry("date", "2012-09-10T15:29:24Z", "2012-09-10T15:29:25Z")}},
		{"Observation subject", "Observation", "2fff439b-abfd-42a4-b17c-07f2cc59fbc9", "subject",
			[]searchparam.Entry{refEntry("subject", "Patient", patientID)}},
		{"Observation patient", "Observation", "2fff439b-abfd-42a4-b17c-07f2cc59fbc9", "patient",
			[]searchparam.Entry{refEntry("patient", "Patient", patientID)}},
		{"Observation encounter", "Observation", "2fff439b-abfd-42a4-b17c-07f2cc59fbc9", "encounter",
			[]searchparam.Entry{refEntry("encounter", "Encounter", encounterID)}},
		{"Observation category", "Observation", "2fff439b-abfd-42a4-b17c-07f2cc59fbc9", "category",
			[]searchparam.Entry{tokenEntry("category",
				"http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs", "vital-signs")}},
		{"Observation component-code", "Observation", "d1b60d57-c1a2-4b70-b18a-34169ada507e", "component-code",
			[]searchparam.Entry{
				tokenEntry("component-code", loinc, "8462-4", "Diastolic Blood Pressure"),
				textEntry("component-code", "Diastolic Blood Pressure"),
				tokenEntry("component-code", loinc, "8480-6", "Systolic Blood Pressure"),
				textEntry("component-code", "Systolic Blood Pressure"),
			}},
		{"Observation value-concept", "Observation", "92d5b64d-22da-4ff0-a4a9-2cf57e356e00", "value-concept",
			[]searchparam.Entry{tokenEntry("value-concept", snomed, "266919005", "Never smoker"),
				textEntry("value-concept", "Never smoker")}},
		{"Observation value-quantity absent", "Observation", "92d5b64d-22da-4ff0-a4a9-2cf57e356e00",
			"value-quantity", nil},

		{"Condition code", "Condition", "0c948634-9289-4c36-bcfc-6ffa49351290", "code", []searchparam.Entry{
			tokenEntry("code", snomed, "162864005", "Body mass index 30+ - obesity (finding)"),
			textEntry("code", "Body mass index 30+ - obesity (finding)")}},
		{"Condition onset-date", "Condition", "0c948634-9289-4c36-bcfc-6ffa49351290", "onset-date",
			[]searchparam.Entry{dateEntry("onset-date", "2018-09-17T15:29:24Z", "2018-09-17T15:29:25Z")}},
		{"Condition clinical-status", "Condition", "0c948634-9289-4c36-bcfc-6ffa49351290", "clinical-status",
			[]searchparam.Entry{tokenEntry("clinical-status",
				"http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "")}},
		{"Condition patient", "Condition", "0c948634-9289-4c36-bcfc-6ffa49351290", "patient",
			[]searchparam.Entry{refEntry("patient", "Patient", patientID)}},

		{"Procedure code", "Procedure", "587433ef-2cf1-4aba-b726-581248e241ef", "code", []searchparam.Entry{
			tokenEntry("code", snomed, "428191000124101", "Documentation of current medications"),
			textEntry("code", "Documentation of current medications")}},
		{"Procedure date", "Procedure", "587433ef-2cf1-4aba-b726-581248e241ef", "date", []searchparam.Entry{
			dateEntry("date", "2018-09-17T15:29:24Z", "2018-09-17T15:44:25Z")}},

		{"Immunization vaccine-code", "Immunization", "fcd9bb91-0aac-4c8c-9494-d5dc0bcf6bdb", "vaccine-code",
			[]searchparam.Entry{
				tokenEntry("vaccine-code", "http://hl7.org/fhir/sid/cvx", "140",
					"Influenza, seasonal, injectable, preservative free"),
				textEntry("vaccine-code", "Influenza, seasonal, injectable, preservative free")}},
		{"Immunization date", "Immunization", "fcd9bb91-0aac-4c8c-9494-d5dc0bcf6bdb", "date",
			[]searchparam.Entry{dateEntry("date", "2012-09-10T15:29:24Z", "2012-09-10T15:29:25Z")}},
		{"Immunization patient", "Immunization", "fcd9bb91-0aac-4c8c-9494-d5dc0bcf6bdb", "patient",
			[]searchparam.Entry{refEntry("patient", "Patient", patientID)}},
		{"Immunization status", "Immunization", "fcd9bb91-0aac-4c8c-9494-d5dc0bcf6bdb", "status",
			[]searchparam.Entry{tokenEntry("status", "", "completed", "")}},

		{"DiagnosticReport category", "DiagnosticReport", "6a327108-c5ca-4d1e-93c6-a077e75fb244", "category",
			[]searchparam.Entry{tokenEntry("category", "http://terminology.hl7.org/CodeSystem/v2-0074",
				"LAB", "Laboratory")}},
		{"DiagnosticReport issued", "DiagnosticReport", "6a327108-c5ca-4d1e-93c6-a077e75fb244", "issued",
			[]searchparam.Entry{dateEntry("issued", "2012-09-10T15:29:24.181Z", "2012-09-10T15:29:24.182Z")}},

		{"Claim patient", "Claim", claimID, "patient", []searchparam.Entry{refEntry("patient", "Patient", patientID)}},
		{"Claim created", "Claim", claimID, "created", []searchparam.Entry{
			dateEntry("created", "2012-09-10T15:44:24Z", "2012-09-10T15:44:25Z")}},
		{"Claim use", "Claim", claimID, "use", []searchparam.Entry{tokenEntry("use", "", "claim", "")}},
		{"Claim encounter", "Claim", claimID, "encounter", []searchparam.Entry{
			refEntry("encounter", "Encounter", encounterID)}},
		{"Claim provider", "Claim", claimID, "provider", []searchparam.Entry{
			refEntry("provider", "Organization", organizationID)}},

		{"ExplanationOfBenefit claim", "ExplanationOfBenefit", "5ca5a87f-be11-41dd-9c36-2de39282f8ff", "claim",
			[]searchparam.Entry{refEntry("claim", "Claim", claimID)}},
		{"ExplanationOfBenefit care-team", "ExplanationOfBenefit", "5ca5a87f-be11-41dd-9c36-2de39282f8ff",
			"care-team", []searchparam.Entry{refEntry("care-team", "Practitioner", practitionerID)}},
		{"ExplanationOfBenefit contained coverage", "ExplanationOfBenefit", "5ca5a87f-be11-41dd-9c36-2de39282f8ff",
			"coverage", []searchparam.Entry{{Param: "coverage", Type: searchparam.TypeReference, Exact: "#coverage"}}},
		{"ExplanationOfBenefit identifier", "ExplanationOfBenefit", "5ca5a87f-be11-41dd-9c36-2de39282f8ff",
			"identifier", []searchparam.Entry{
				identifierEntry("identifier", "https://bluebutton.cms.gov/resources/variables/clm_id", claimID),
				identifierEntry("identifier", "https://bluebutton.cms.gov/resources/identifier/claim-group",
					"99999999999")}},

		{"Organization name", "Organization", organizationID, "name", []searchparam.Entry{
			strEntry("name", "LAHEY HOSPITAL & MEDICAL CENTER, BURLINGTON")}},
		{"Organization type", "Organization", organizationID, "type", []searchparam.Entry{
			tokenEntry("type", "http://terminology.hl7.org/CodeSystem/organization-type", "prov",
				"Healthcare Provider"),
			textEntry("type", "Healthcare Provider")}},
		{"Organization address-postalcode", "Organization", organizationID, "address-postalcode",
			[]searchparam.Entry{strEntry("address-postalcode", "01803")}},

		{"Practitioner name", "Practitioner", practitionerID, "name", []searchparam.Entry{
			strEntry("name", "Kassulke"), strEntry("name", "June"), strEntry("name", "Dr.")}},
		{"Practitioner identifier", "Practitioner", practitionerID, "identifier", []searchparam.Entry{
			identifierEntry("identifier", "http://hl7.org/fhir/sid/us-npi", "520")}},
		{"Practitioner gender", "Practitioner", practitionerID, "gender", []searchparam.Entry{
			tokenEntry("gender", "", "female", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resource := findResource(t, resources, tt.resourceType, tt.id)
			entries, err := reg.Extract(tt.resourceType, resource)
			require.NoError(t, err)
			assert.ElementsMatch(t, tt.want, entriesOf(entries, tt.param))
		})
	}
}

func TestExtractSyntheaQuantities(t *testing.T) {
	t.Parallel()
	resources := loadBundle(t, true)
	reg := searchparam.R4()
	tests := []struct {
		name     string
		id       string
		param    string
		wantNums []float64
		wantCode string
	}{
		{"value-quantity", "2fff439b-abfd-42a4-b17c-07f2cc59fbc9", "value-quantity",
			[]float64{168.80253764416227}, "cm"},
		{"component-value-quantity", "d1b60d57-c1a2-4b70-b18a-34169ada507e", "component-value-quantity",
			[]float64{71.57727343548594, 106.6797730199243}, "mm[Hg]"},
		{"combo-value-quantity", "d1b60d57-c1a2-4b70-b18a-34169ada507e", "combo-value-quantity",
			[]float64{71.57727343548594, 106.6797730199243}, "mm[Hg]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			entries, err := reg.Extract("Observation", findResource(t, resources, "Observation", tt.id))
			require.NoError(t, err)
			got := entriesOf(entries, tt.param)
			require.Len(t, got, len(tt.wantNums))
			for i, e := range got {
				assert.Equal(t, searchparam.TypeQuantity, e.Type)
				assert.Equal(t, tt.wantNums[i], e.Num)
				assert.Equal(t, ucum, e.System)
				assert.Equal(t, tt.wantCode, e.Code)
				// Sixteen or more significant digits give a range narrower
				// than a float64 step, so NumLo may round to the value.
				assert.LessOrEqual(t, e.NumLo, e.Num)
				assert.Greater(t, e.NumHi, e.Num)
				assert.Less(t, e.NumHi-e.NumLo, 1e-12)
			}
		})
	}
}

func TestExtractSyntheaEveryResource(t *testing.T) {
	t.Parallel()
	reg := searchparam.R4()
	for _, resource := range loadBundle(t, true) {
		resourceType := resource["resourceType"].(string)
		entries, err := reg.Extract(resourceType, resource)
		require.NoError(t, err, "%s/%s", resourceType, resource["id"])
		assert.NotEmpty(t, entriesOf(entries, "_id"), "%s/%s", resourceType, resource["id"])
		for i := range entries {
			for j := i + 1; j < len(entries); j++ {
				assert.NotEqual(t, entries[i], entries[j], "duplicate entry in %s/%s", resourceType, resource["id"])
			}
		}
	}
}

// Without rewriting, Synthea references are "urn:uuid:" URNs. They are kept
// as written, and parameters restricted with resolve() is Patient find
// nothing, because a URN does not name the resource type.
func TestExtractSyntheaURNReferences(t *testing.T) {
	t.Parallel()
	resources := loadBundle(t, false)
	entries, err := searchparam.R4().Extract("Observation",
		findResource(t, resources, "Observation", "2fff439b-abfd-42a4-b17c-07f2cc59fbc9"))
	require.NoError(t, err)
	assert.Equal(t, []searchparam.Entry{{Param: "subject", Type: searchparam.TypeReference,
		Exact: "urn:uuid:" + patientID}}, entriesOf(entries, "subject"))
	assert.Empty(t, entriesOf(entries, "patient"))
}
