package emrtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

func testEverything(t *testing.T, newStore NewStore) {
	ctx := ctxFor("system/import")
	svc := newService(t, newStore)
	_, err := svc.ImportBundle(ctx, []byte(importBundle))
	require.NoError(t, err)
	put(t, svc, "Patient", "other", `{"resourceType":"Patient"}`)
	put(t, svc, "Observation", "other-obs", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/other"}}`)
	const pid = "8a1b6e3c-0000-4000-8000-000000000001"

	all, err := svc.Everything(ctx, emr.EverythingParams{PatientID: pid})
	require.NoError(t, err)
	var got []string
	for _, r := range all.Resources {
		got = append(got, r.Type)
	}
	assert.Equal(t, []string{"Patient", "Encounter", "Observation"}, got, "the patient first, then types in order")
	assert.False(t, all.Truncated)

	obs, err := svc.Everything(ctx, emr.EverythingParams{PatientID: pid, Types: []string{"Observation"}})
	require.NoError(t, err)
	require.Len(t, obs.Resources, 1)
	assert.Equal(t, "Observation", obs.Resources[0].Type)

	capped, err := svc.Everything(ctx, emr.EverythingParams{PatientID: pid, Max: 2})
	require.NoError(t, err)
	assert.Len(t, capped.Resources, 2)
	assert.True(t, capped.Truncated)

	later, err := svc.Everything(ctx, emr.EverythingParams{PatientID: pid, Since: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	assert.Empty(t, later.Resources)

	_, err = svc.Everything(ctx, emr.EverythingParams{PatientID: "nobody"})
	assert.ErrorIs(t, err, emr.ErrNotFound)
	assert.Contains(t, emr.PatientCompartment()["Observation"], "subject")
}
