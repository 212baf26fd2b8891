package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/security/keyring"
	"github.com/nexus-health-360/nexus/storage"
)

// runNexusd runs nexusd with args and returns its standard output.
func runNexusd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &stdout, &stderr
	err := app.Run(append([]string{"nexusd"}, args...))
	return stdout.String(), err
}

func writeMasterKey(t *testing.T) string {
	t.Helper()
	text, err := keyring.GenerateMasterKey()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "master.key")
	require.NoError(t, os.WriteFile(path, []byte(text+"\n"), 0o600))
	return path
}

func TestEncryptedDatabaseCommands(t *testing.T) {
	t.Setenv(keyring.EnvMasterKey, "")
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "enc.db")
	dsn := "sqlite:" + dbPath
	keyFile := writeMasterKey(t)

	out, err := runNexusd(t, "migrate", "--db", dsn, "--master-key-file", keyFile)
	require.NoError(t, err)
	assert.Contains(t, out, "encryption at rest is on")
	_, err = runNexusd(t, "import", "--db", dsn, "--master-key-file", keyFile, demoFiles(t))
	require.NoError(t, err)

	_, err = runNexusd(t, "import", "--db", dsn, demoFiles(t))
	require.ErrorIs(t, err, keyring.ErrMasterKeyMissing, "no master key")
	_, err = runNexusd(t, "export", "--db", dsn, "--master-key-file", writeMasterKey(t), "--out", filepath.Join(t.TempDir(), "x"))
	require.ErrorIs(t, err, keyring.ErrWrongMasterKey, "another master key")

	// The demo patients' names appear in no stored body.
	db, err := storage.Open(ctx, dsn, storage.Options{})
	require.NoError(t, err)
	var bodies [][]byte
	require.NoError(t, db.Reader.SelectContext(ctx, &bodies, `SELECT body FROM resource_versions WHERE body IS NOT NULL`))
	require.NotEmpty(t, bodies)
	for _, b := range bodies {
		_, sealed, err := storage.ParseSealed(b)
		require.NoError(t, err)
		require.True(t, sealed)
	}
	db.Close()

	exportDir := filepath.Join(t.TempDir(), "export")
	_, err = runNexusd(t, "export", "--db", dsn, "--master-key-file", keyFile, "--out", exportDir, "--type", "Patient")
	require.NoError(t, err)
	patients, err := os.ReadFile(filepath.Join(exportDir, "Patient.ndjson"))
	require.NoError(t, err)
	assert.Contains(t, string(patients), `"resourceType":"Patient"`, "export writes plaintext")

	out, err = runNexusd(t, "keys", "rotate-data", "--db", dsn, "--master-key-file", keyFile)
	require.NoError(t, err)
	assert.Contains(t, out, "version 2 is active")
	_, err = runNexusd(t, "keys", "retire", "--db", dsn, "--master-key-file", keyFile, "1")
	require.ErrorIs(t, err, keyring.ErrInUse)
	out, err = runNexusd(t, "keys", "rewrap", "--db", dsn, "--master-key-file", keyFile)
	require.NoError(t, err)
	assert.Contains(t, out, "emr:")
	_, err = runNexusd(t, "keys", "retire", "--db", dsn, "--master-key-file", keyFile, "1")
	require.NoError(t, err)
	out, err = runNexusd(t, "keys", "status", "--db", dsn, "--master-key-file", keyFile)
	require.NoError(t, err)
	assert.Contains(t, out, "version 1\tretired")
	assert.Contains(t, out, "version 2\tactive")
}

func TestAuditCommands(t *testing.T) {
	t.Setenv(keyring.EnvMasterKey, "")
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "audit.db")
	keyFile := writeMasterKey(t)
	_, err := runNexusd(t, "import", "--db", dsn, "--master-key-file", keyFile, demoFiles(t))
	require.NoError(t, err)

	// What serve does: follow the outbox and record a read.
	db, svc, err := openServiceKeys(ctx, dsn, emr.Config{}, dataKeys{file: keyFile})
	require.NoError(t, err)
	log, err := openAudit(ctx, db, nil)
	require.NoError(t, err)
	follower := log.Follow("emr", emrEvents{svc: svc}, audit.FollowerConfig{})
	for {
		n, err := follower.Step(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	page, err := svc.Search(ctx, "Patient", nil)
	require.NoError(t, err)
	require.NotEmpty(t, page.Resources)
	patient := page.Resources[0].ID
	require.NoError(t, log.Record(ctx, audit.Entry{Type: audit.TypeRest, Subtype: "read", Action: audit.ActionRead,
		Outcome: audit.OutcomeSuccess, Agent: audit.Agent{Who: "dr-test", Address: "127.0.0.1"},
		Patient: patient, What: "Patient/" + patient}))
	db.Close()

	out, err := runNexusd(t, "audit", "verify", "--db", dsn, "--master-key-file", keyFile)
	require.NoError(t, err)
	assert.Contains(t, out, "audit log verified")

	out, err = runNexusd(t, "audit", "access", "--db", dsn, "--master-key-file", keyFile, "--patient", patient)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.NotEmpty(t, lines)
	assert.Contains(t, lines[0], "dr-test", "newest first")
	assert.Contains(t, out, "system/nexusd-import", "the import's writes")

	out, err = runNexusd(t, "audit", "access", "--db", dsn, "--master-key-file", keyFile, "--patient", patient, "--count", "1", "--format", "fhir")
	require.NoError(t, err)
	assert.Contains(t, out, `"resourceType":"AuditEvent"`)

	cpFile, logFile := filepath.Join(dir, "cp.json"), filepath.Join(dir, "log.ndjson")
	_, err = runNexusd(t, "audit", "checkpoint", "--db", dsn, "--master-key-file", keyFile, "--out", cpFile, "--export", logFile)
	require.NoError(t, err)
	out, err = runNexusd(t, "audit", "check", "--checkpoint", cpFile, "--log", logFile)
	require.NoError(t, err)
	assert.Contains(t, out, "holds")
	out, err = runNexusd(t, "audit", "check", "--checkpoint", cpFile, "--db", dsn)
	require.NoError(t, err, "the database needs no key for a check")
	assert.Contains(t, out, "holds")

	exported, err := os.ReadFile(logFile)
	require.NoError(t, err)
	edited := bytes.Replace(exported, []byte(`"who":"dr-test"`), []byte(`"who":"nobody"`), 1)
	require.NoError(t, os.WriteFile(logFile, edited, 0o600))
	_, err = runNexusd(t, "audit", "check", "--checkpoint", cpFile, "--log", logFile)
	assert.ErrorIs(t, err, audit.ErrTampered)

	_, err = runNexusd(t, "audit", "verify", "--db", dsn)
	assert.ErrorIs(t, err, keyring.ErrMasterKeyMissing)
}
