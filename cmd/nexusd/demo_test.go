package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/security/keyring"
)

// assertNoSQLiteFiles checks that neither the database at path nor its
// -wal and -shm files exist.
func assertNoSQLiteFiles(t *testing.T, path string) {
	t.Helper()
	for _, file := range []string{path, path + "-wal", path + "-shm"} {
		_, err := os.Stat(file)
		assert.ErrorIs(t, err, os.ErrNotExist, "%s is left behind", filepath.Base(file))
	}
}

func TestDemoBadAddressCreatesNoDB(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() })
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"same port twice", []string{"--addr", "127.0.0.1:8096", "--mllp-addr", "127.0.0.1:8096"},
			"--addr and --mllp-addr are both 127.0.0.1:8096"},
		{"port too large", []string{"--addr", "127.0.0.1:99999"}, `invalid --addr "127.0.0.1:99999"`},
		{"busy HTTP port", []string{"--addr", busy.Addr().String()}, "listen on --addr " + busy.Addr().String()},
		{"busy MLLP port", []string{"--addr", "127.0.0.1:0", "--mllp-addr", busy.Addr().String()},
			"listen on --mllp-addr " + busy.Addr().String()},
		{"busy profiler port", []string{"--addr", "127.0.0.1:0", "--debug-addr", busy.Addr().String()},
			"listen on --debug-addr " + busy.Addr().String()},
		{"missing MLLP certificate", []string{"--addr", "127.0.0.1:0", "--mllp-addr", "127.0.0.1:0",
			"--mllp-tls-cert", "missing.crt", "--mllp-tls-key", "missing.key"}, "load --mllp-tls-cert and --mllp-tls-key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "demo.db")
			args := append([]string{"--log-level", "error", "demo", "--db", "sqlite:" + path}, tc.args...)
			_, err := runNexusd(t, args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assertNoSQLiteFiles(t, path)
		})
	}
}

// A master key that does not parse fails after the database file was
// created, and the failed start removes the file.
func TestDemoFailedStartRemovesDB(t *testing.T) {
	t.Setenv(keyring.EnvMasterKey, "")
	keyFile := filepath.Join(t.TempDir(), "bad.key")
	require.NoError(t, os.WriteFile(keyFile, []byte("c2hvcnQ=\n"), 0o600))
	path := filepath.Join(t.TempDir(), "demo.db")

	_, err := runNexusd(t, "--log-level", "error", "demo", "--db", "sqlite:"+path, "--addr", "127.0.0.1:0",
		"--master-key-file", keyFile)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "master key")
	assertNoSQLiteFiles(t, path)
}

func TestDemoExistingDBKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.db")
	require.NoError(t, os.WriteFile(path, []byte("kept"), 0o600))

	_, err := runNexusd(t, "--log-level", "error", "demo", "--db", "sqlite:"+path, "--addr", "127.0.0.1:0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already exists; the demo needs a fresh database")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "kept", string(data), "a database that this run did not create is left alone")
}

func TestServeBusyPortOpensNoDB(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() })
	path := filepath.Join(t.TempDir(), "serve.db")

	_, err = runNexusd(t, "--log-level", "error", "serve", "--db", "sqlite:"+path, "--addr", busy.Addr().String())
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "listen on --addr "+busy.Addr().String()+": "), err.Error())
	assertNoSQLiteFiles(t, path)
}

// Stopping the audit followers before the database closes keeps a normal
// shutdown free of "database is closed" errors.
func TestStartAuditStopBeforeClose(t *testing.T) {
	t.Setenv(keyring.EnvMasterKey, "")
	ctx := context.Background()
	db, svc, err := openServiceKeys(ctx, "sqlite:"+filepath.Join(t.TempDir(), "audit.db"), emr.Config{}, dataKeys{})
	require.NoError(t, err)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	_, stop, err := startAudit(ctx, db, svc, nil, log)
	require.NoError(t, err)
	stop()
	require.NoError(t, db.Close())
	assert.NotContains(t, logs.String(), "level=ERROR")
}
