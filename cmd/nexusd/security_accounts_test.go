package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/storage"
)

func TestUserAndClientAccountCommands(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "accounts.db")
	_, err := runApp(t, "", "migrate", "--db", dsn)
	require.NoError(t, err)
	_, err = runApp(t, "a long nurse password\n", "user", "add", "--db", dsn, "--username", "nurse1",
		"--role", "nurse", "--totp", "--location", "ward-3")
	require.NoError(t, err)
	_, err = runApp(t, "", "client", "add", "--db", dsn, "--id", "chart", "--kind", "app", "--name", "Chart",
		"--scope", "user/*.rs", "--redirect-uri", "https://app.example/cb")
	require.NoError(t, err)

	_, err = runApp(t, "a long nurse password\n", "user", "add", "--db", dsn, "--username", "nurse1", "--role", "nurse")
	assert.ErrorContains(t, err, "user nurse1 already exists")
	assert.ErrorIs(t, err, security.ErrConflict)
	_, err = runApp(t, "", "client", "add", "--db", dsn, "--id", "chart", "--kind", "app",
		"--scope", "user/*.rs", "--redirect-uri", "https://app.example/cb")
	assert.ErrorContains(t, err, "client chart already exists")

	out, err := runApp(t, "", "user", "disable", "--db", dsn, "nurse1")
	require.NoError(t, err)
	assert.Contains(t, out, "user nurse1 disabled")
	out, err = runApp(t, "", "client", "disable", "--db", dsn, "chart")
	require.NoError(t, err)
	assert.Contains(t, out, "client chart disabled")
	_, err = runApp(t, "", "user", "disable", "--db", dsn, "nobody")
	assert.ErrorIs(t, err, security.ErrNotFound)
	_, err = runApp(t, "", "user", "disable", "--db", dsn)
	assert.ErrorContains(t, err, "takes one USERNAME argument")

	out, err = runApp(t, "", "user", "list", "--db", dsn)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	assert.Regexp(t, `^nurse1\s+nurse\s+-\s+ward-3\s+on\s+disabled\s`, lines[1])
	assert.NotContains(t, out, "argon2id", "no password hash")
	out, err = runApp(t, "", "client", "list", "--db", dsn)
	require.NoError(t, err)
	assert.Regexp(t, `chart\s+app\s+Chart\s+-\s+user/\*\.rs\s+https://app\.example/cb\s+disabled`, out)

	_, err = runApp(t, "", "user", "enable", "--db", dsn, "nurse1")
	require.NoError(t, err)
	out, err = runApp(t, "", "user", "list", "--db", dsn)
	require.NoError(t, err)
	assert.Contains(t, out, "enabled")

	ctx := context.Background()
	db, err := storage.Open(ctx, dsn, storage.Options{})
	require.NoError(t, err)
	defer db.Close()
	log, err := openAudit(ctx, db, nil)
	require.NoError(t, err)
	records, err := auditStore(db).Scan(ctx, 0, 100)
	require.NoError(t, err)
	var changes []string
	for _, r := range records {
		if r.Type == audit.TypeEmergency {
			changes = append(changes, r.Subtype+" "+r.What)
			assert.True(t, strings.HasPrefix(r.Agent.Who, "os:"), "the operator is recorded: %s", r.Agent.Who)
		}
	}
	assert.Equal(t, []string{"user-disabled user/nurse1", "client-disabled client/chart", "user-enabled user/nurse1"}, changes)
	rep, err := log.Verify(ctx)
	require.NoError(t, err)
	assert.True(t, rep.OK())
}
