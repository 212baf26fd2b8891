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
	"github.com/nexus-health-360/nexus/storage"
)

// wipedAuditDatabase imports the demo data, records its writes in the
// audit log as serve does, and then runs the statements with the
// append-only triggers dropped.
func wipedAuditDatabase(t *testing.T, statements ...string) (dsn, keyFile string) {
	t.Helper()
	ctx := context.Background()
	dsn = "sqlite:" + filepath.Join(t.TempDir(), "wiped.db")
	keyFile = writeMasterKey(t)
	_, err := runNexusd(t, "import", "--db", dsn, "--master-key-file", keyFile, demoFiles(t))
	require.NoError(t, err)

	db, svc, err := openServiceKeys(ctx, dsn, emr.Config{}, dataKeys{file: keyFile})
	require.NoError(t, err)
	log, err := openAudit(ctx, db, nil)
	require.NoError(t, err)
	n, err := log.Follow("emr", emrEvents{svc: svc}, audit.FollowerConfig{}).Step(ctx)
	require.NoError(t, err)
	require.Positive(t, n)
	db.Close()

	_, err = runNexusd(t, "audit", "verify", "--db", dsn, "--master-key-file", keyFile)
	require.NoError(t, err, "before tampering")

	raw, err := storage.Open(ctx, dsn, storage.Options{})
	require.NoError(t, err)
	defer raw.Close()
	for _, statement := range append([]string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}, statements...) {
		_, err := raw.Writer.ExecContext(ctx, statement)
		require.NoError(t, err, statement)
	}
	return dsn, keyFile
}

func TestAuditVerifyRejectsWipedLog(t *testing.T) {
	t.Setenv(keyring.EnvMasterKey, "")
	cases := []struct {
		name       string
		statements []string
	}{
		{"entries and head", []string{`DELETE FROM audit_log`, `DELETE FROM audit_head`}},
		{"head", []string{`DELETE FROM audit_head`}},
		{"entries, head and signing key", []string{`DELETE FROM audit_log`, `DELETE FROM audit_head`, `DELETE FROM audit_signing_keys`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dsn, keyFile := wipedAuditDatabase(t, tc.statements...)
			out, err := runNexusd(t, "audit", "verify", "--db", dsn, "--master-key-file", keyFile)
			require.Error(t, err, "verify passed: %s", out)
			assert.NotContains(t, out, "audit log verified")
		})
	}
}

// skippingEvents drops the event at one position, as if its entries had
// been removed and the chain rebuilt around them.
type skippingEvents struct {
	src  audit.EventSource
	skip int64
}

func (s skippingEvents) Events(ctx context.Context, after int64, limit int) ([]audit.Event, error) {
	events, err := s.src.Events(ctx, after, limit)
	kept := events[:0]
	for _, e := range events {
		if e.Position != s.skip {
			kept = append(kept, e)
		}
	}
	return kept, err
}

func TestAuditVerifyFindsUncoveredOutboxEvent(t *testing.T) {
	t.Setenv(keyring.EnvMasterKey, "")
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "gap.db")
	keyFile := writeMasterKey(t)
	_, err := runNexusd(t, "import", "--db", dsn, "--master-key-file", keyFile, demoFiles(t))
	require.NoError(t, err)

	db, svc, err := openServiceKeys(ctx, dsn, emr.Config{}, dataKeys{file: keyFile})
	require.NoError(t, err)
	log, err := openAudit(ctx, db, nil)
	require.NoError(t, err)
	follower := log.Follow("emr", skippingEvents{src: emrEvents{svc: svc}, skip: 3}, audit.FollowerConfig{})
	n, err := follower.Step(ctx)
	require.NoError(t, err)
	require.Positive(t, n)
	rep, err := log.Verify(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK(), "the chain itself is intact: %v", rep.Err())
	db.Close()

	_, err = runNexusd(t, "audit", "verify", "--db", dsn, "--master-key-file", keyFile)
	require.ErrorIs(t, err, audit.ErrTampered)
	assert.Contains(t, err.Error(), "outbox event 3 has no audit entry")
}
