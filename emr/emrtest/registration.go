package emrtest

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

const clerkPatient = `{"resourceType":"Patient","name":[{"family":"Hernandez","given":["Maria"]}],"gender":"female","birthDate":"1984-03-07",
	"telecom":[{"system":"phone","value":"555-201-3344"}],"address":[{"line":["12 Elm St"],"city":"Boston","postalCode":"02115"}],
	"identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"999-12-3456"}]}`

func testRegistration(t *testing.T, newStore NewStore) {
	ctx := ctxFor("user/clerk")
	svc := newService(t, newStore)

	first, err := svc.RegisterPatient(ctx, emr.RegisterParams{Patient: []byte(clerkPatient)})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(first.MRN, emr.DefaultMRNPrefix))
	assert.Contains(t, string(first.Patient.Body), first.MRN)
	assert.Equal(t, []string{first.Patient.ID}, searchIDs(t, svc, "Patient", "identifier="+emr.DefaultMRNSystem+"|"+first.MRN))

	second, err := svc.RegisterPatient(ctx, emr.RegisterParams{Patient: []byte(`{"resourceType":"Patient","name":[{"family":"Okafor","given":["Chidi"]}],"gender":"male","birthDate":"1990-11-02"}`)})
	require.NoError(t, err)
	assert.NotEqual(t, first.MRN, second.MRN)

	// A typo in the family name, day and month swapped, no SSN.
	dup := `{"resourceType":"Patient","name":[{"family":"Hernandes","given":["Maria"]}],"gender":"female","birthDate":"1984-07-03",
		"telecom":[{"system":"phone","value":"(555) 201-3344"}],"address":[{"line":["12 Elm Street"],"city":"Boston","postalCode":"02115"}]}`
	_, err = svc.RegisterPatient(ctx, emr.RegisterParams{Patient: []byte(dup)})
	var de *emr.DuplicateError
	require.True(t, errors.As(err, &de), "likely duplicate is rejected: %v", err)
	assert.ErrorIs(t, err, emr.ErrPossibleDuplicate)
	require.NotEmpty(t, de.Candidates)
	assert.Equal(t, first.Patient.ID, de.Candidates[0].PatientID)
	fields := map[string]bool{}
	for _, f := range de.Candidates[0].Fields {
		fields[string(f.Field)] = true
	}
	assert.True(t, fields["name"] && fields["birthDate"], "candidate lists the fields compared: %v", de.Candidates[0].Fields)
	assert.NotContains(t, err.Error(), "Hernand", "no patient values in the error")

	cands, err := svc.FindDuplicates(ctx, []byte(dup))
	require.NoError(t, err)
	require.NotEmpty(t, cands)
	assert.Equal(t, first.Patient.ID, cands[0].PatientID)

	over, err := svc.RegisterPatient(ctx, emr.RegisterParams{Patient: []byte(dup), OverrideReason: "different person, checked ID card"})
	require.NoError(t, err)
	assert.True(t, over.Overridden)
	events, err := svc.Events(ctx, 0, 1000)
	require.NoError(t, err)
	found := false
	for _, e := range events {
		if e.Topic == "emr.patient.registered" && e.ID == over.Patient.ID {
			found = strings.Contains(string(e.Data), "checked ID card")
		}
	}
	assert.True(t, found, "override reason is recorded")

	t.Run("identifier is unique", func(t *testing.T) {
		other := `{"resourceType":"Patient","name":[{"family":"Quist","given":["Lars"]}],"gender":"male","birthDate":"1950-01-01",
			"identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"999-12-3456"}]}`
		_, err := svc.RegisterPatient(ctx, emr.RegisterParams{Patient: []byte(other), OverrideReason: "test"})
		assert.ErrorIs(t, err, emr.ErrConflict)
		_, err = svc.Create(ctx, "Patient", []byte(other))
		assert.ErrorIs(t, err, emr.ErrConflict, "every door enforces it")
	})

	t.Run("merge and unmerge", func(t *testing.T) {
		obs := `{"resourceType":"Observation","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/` + over.Patient.ID + `"}}`
		o, err := svc.Create(ctx, "Observation", []byte(obs))
		require.NoError(t, err)
		require.NoError(t, svc.Merge(ctx, emr.MergeParams{Source: over.Patient.ID, Target: first.Patient.ID, Reason: "same person"}))

		src, err := svc.Read(ctx, "Patient", over.Patient.ID)
		require.NoError(t, err, "the merged record stays readable")
		assert.Contains(t, string(src.Body), `"replaced-by"`)
		assert.Contains(t, string(src.Body), `"active":false`)
		tgt, err := svc.Read(ctx, "Patient", first.Patient.ID)
		require.NoError(t, err)
		assert.Contains(t, string(tgt.Body), `"replaces"`)
		ref, err := svc.Read(ctx, "Observation", o.ID)
		require.NoError(t, err)
		assert.Equal(t, string(o.Body), string(ref.Body), "references are not rewritten")
		v1, err := svc.VRead(ctx, "Patient", over.Patient.ID, 1)
		require.NoError(t, err)
		assert.Equal(t, string(over.Patient.Body), string(v1.Body), "history is not rewritten")
		assert.Error(t, svc.Merge(ctx, emr.MergeParams{Source: over.Patient.ID, Target: second.Patient.ID}), "a merged record cannot merge again")

		require.NoError(t, svc.Unmerge(ctx, emr.MergeParams{Source: over.Patient.ID, Target: first.Patient.ID, Reason: "wrong merge"}))
		src, err = svc.Read(ctx, "Patient", over.Patient.ID)
		require.NoError(t, err)
		assert.NotContains(t, string(src.Body), `"link"`)
		assert.NotContains(t, string(src.Body), `"active"`)
		assert.Equal(t, int64(3), src.VersionID, "merge and unmerge are versions")
		tgt, err = svc.Read(ctx, "Patient", first.Patient.ID)
		require.NoError(t, err)
		assert.NotContains(t, string(tgt.Body), `"link"`)
		assert.Error(t, svc.Unmerge(ctx, emr.MergeParams{Source: over.Patient.ID, Target: first.Patient.ID}), "unmerge needs a merge")
	})
}
