package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/security/keyring"
)

// followAll appends the entries of every pending clinical record event.
func followAll(t *testing.T, follower *audit.Follower) {
	t.Helper()
	for {
		n, err := follower.Step(context.Background())
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
}

func TestAuditFollowerRecordsDeletePatient(t *testing.T) {
	t.Setenv(keyring.EnvMasterKey, "")
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "audit.db")
	db, svc, err := openServiceKeys(ctx, dsn, emr.Config{}, dataKeys{})
	require.NoError(t, err)
	defer db.Close()
	log, err := openAudit(ctx, db, nil)
	require.NoError(t, err)
	follower := log.Follow("emr", emrEvents{svc: svc}, audit.FollowerConfig{})

	_, err = svc.Create(ctx, "Patient", []byte(`{"resourceType":"Patient","id":"ignored"}`))
	require.NoError(t, err)
	patients, err := svc.Search(ctx, "Patient", nil)
	require.NoError(t, err)
	require.Len(t, patients.Resources, 1)
	patient := patients.Resources[0].ID
	cond, err := svc.Create(ctx, "Condition", []byte(`{"resourceType":"Condition","code":{"text":"asthma"},
		"subject":{"reference":"Patient/`+patient+`"}}`))
	require.NoError(t, err)
	_, err = svc.Delete(ctx, "Condition", cond.ID, 0)
	require.NoError(t, err)
	followAll(t, follower)

	page, err := log.Access(ctx, audit.AccessQuery{Patient: patient})
	require.NoError(t, err)
	var actions []audit.Action
	for _, e := range page.Entries {
		actions = append(actions, e.Action)
	}
	assert.Equal(t, []audit.Action{audit.ActionDelete, audit.ActionCreate, audit.ActionCreate}, actions,
		"the deletion is in the patient's access log, newest first")
	assert.Equal(t, "Condition/"+cond.ID+"/_history/2", page.Entries[0].What)
}
