package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/fhir"
	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/storage"
)

func TestAccessAuditPurposePerPatient(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "purpose.db")
	_, err := runApp(t, "", "migrate", "--db", dsn)
	require.NoError(t, err)
	db, err := storage.Open(ctx, dsn, storage.Options{})
	require.NoError(t, err)
	defer db.Close()
	log, err := openAudit(ctx, db, nil)
	require.NoError(t, err)

	event := fhir.AccessEvent{Time: time.Now(), Subject: "nurse1", Action: "search", Status: 200,
		Patients: []string{"p1", "p2"}, BreakGlass: []string{"bg1"},
		BreakGlassGrants: []security.Grant{{ID: "bg1", Patient: "p2"}}}
	require.NoError(t, accessAudit{log: log}.RecordAccess(ctx, event))

	purpose := map[string]string{}
	for _, patient := range []string{"p1", "p2"} {
		page, err := log.Access(ctx, audit.AccessQuery{Patient: patient})
		require.NoError(t, err)
		require.Len(t, page.Entries, 1, patient)
		purpose[patient] = page.Entries[0].Purpose
	}
	assert.Empty(t, purpose["p1"], "p1 is in the care relations, so no grant was used for it")
	assert.Equal(t, "break-the-glass grant bg1", purpose["p2"])
}
