package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestEMRPatientsExistence(t *testing.T) {
	ctx := context.Background()
	db := storagetest.SQLite(t)
	require.NoError(t, db.Migrate(ctx, schema()...))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	require.NoError(t, err)
	_, _, err = svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: "pat-1", Body: []byte(`{"resourceType":"Patient","id":"pat-1"}`)})
	require.NoError(t, err)
	_, _, err = svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: "pat-2", Body: []byte(`{"resourceType":"Patient","id":"pat-2"}`)})
	require.NoError(t, err)
	_, err = svc.Delete(ctx, "Patient", "pat-2", 0)
	require.NoError(t, err)

	var dir security.PatientDirectory = emrPatients{svc: svc}
	for id, want := range map[string]bool{"pat-1": true, "pat-2": false, "pat-404": false} {
		got, err := dir.PatientExists(ctx, id)
		require.NoError(t, err, id)
		assert.Equal(t, want, got, id)
	}
}
