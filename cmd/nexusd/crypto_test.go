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

	"github.com/nexus-health-360/nexus/security/keyring"
	"github.com/nexus-health-360/nexus/storage"
)

func TestKeysStatusWritesNothing(t *testing.T) {
	t.Setenv(keyring.EnvMasterKey, "")
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "plain.db")
	_, err := runNexusd(t, "migrate", "--db", dsn)
	require.NoError(t, err)

	out, err := runNexusd(t, "keys", "status", "--db", dsn, "--master-key-file", writeMasterKey(t))
	require.NoError(t, err)
	assert.Contains(t, out, "no data key versions")
	out, err = runNexusd(t, "keys", "status", "--db", dsn)
	require.NoError(t, err, "status needs no master key")
	assert.Contains(t, out, "no data key versions")

	db, err := storage.Open(ctx, dsn, storage.Options{})
	require.NoError(t, err)
	defer db.Close()
	inUse, err := keyring.InUse(ctx, db)
	require.NoError(t, err)
	assert.False(t, inUse, "status created no key version")
	_, err = runNexusd(t, "import", "--db", dsn, demoFiles(t))
	assert.NoError(t, err, "the database still opens without a master key")
}

func TestKeysRetireFlagAfterVersion(t *testing.T) {
	t.Setenv(keyring.EnvMasterKey, "")
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "keys.db")
	_, err := runNexusd(t, "keys", "retire", "1", "--db", dsn)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "flag --db after VERSION")
	assert.Contains(t, err.Error(), "give the flags first")
}

func TestHL7ImportMasterKeyFlag(t *testing.T) {
	t.Setenv(keyring.EnvMasterKey, "")
	t.Setenv("NEXUS_MASTER_KEY_FILE", "")
	const mrn, ssn = "MRN-HL7-55173", "999-62-7781"
	message := strings.Join([]string{
		`MSH|^~\&|ADT|HOSP|NEXUS|HOSP|20240301101500-0500||ADT^A01^ADT_A01|KEY1|P|2.5`,
		`PID|1||` + mrn + `^^^HOSP^MR~` + ssn + `^^^SSA^SS||ZZKEYFAMILY^AVA||19800101|F|||||||||||` + ssn,
	}, "\r") + "\r"
	file := writeMessageFile(t, "admit.hl7", message)
	dbPath := filepath.Join(t.TempDir(), "hl7.db")
	dsn := "sqlite:" + dbPath
	keyFile := writeMasterKey(t)

	_, err := runNexusd(t, "--log-level", "error", "hl7", "import", "--db", dsn, "--master-key-file", keyFile, file)
	require.NoError(t, err)
	for _, path := range []string{dbPath, dbPath + "-wal"} {
		raw, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		for _, value := range []string{mrn, ssn} {
			assert.False(t, bytes.Contains(raw, []byte(value)), "%s contains %s", filepath.Base(path), value)
		}
	}

	_, err = runNexusd(t, "--log-level", "error", "hl7", "import", "--db", dsn, file)
	assert.ErrorIs(t, err, keyring.ErrMasterKeyMissing, "the encrypted database needs the key")
}
