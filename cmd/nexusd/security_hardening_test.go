package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security/keyring"
	"github.com/nexus-health-360/nexus/storage"
)

func TestAdminCommandsSealSecrets(t *testing.T) {
	master, err := keyring.GenerateMasterKey()
	require.NoError(t, err)
	t.Setenv(keyring.EnvMasterKey, master)
	path := filepath.Join(t.TempDir(), "sealed.db")
	dsn := "sqlite:" + path
	_, err = runApp(t, "", "migrate", "--db", dsn)
	require.NoError(t, err)
	out, err := runApp(t, "another long password\n", "user", "add", "--db", dsn, "--username", "nurse1",
		"--role", "nurse", "--totp")
	require.NoError(t, err)
	assert.Contains(t, out, "otpauth://totp/")
	_, err = runApp(t, "", "keys", "rotate", "--db", dsn)
	require.NoError(t, err)

	db, err := storage.Open(context.Background(), dsn, storage.Options{})
	require.NoError(t, err)
	defer db.Close()
	var secret, private []byte
	require.NoError(t, db.Reader.Get(&secret, `SELECT totp_secret FROM security_users WHERE username = 'nurse1'`))
	require.NoError(t, db.Reader.Get(&private, `SELECT private_key FROM security_signing_keys`))
	_, sealed, err := storage.ParseSealed(secret)
	require.NoError(t, err)
	assert.True(t, sealed, "user add seals the TOTP secret")
	_, sealed, err = storage.ParseSealed(private)
	require.NoError(t, err)
	assert.True(t, sealed, "keys rotate seals the private key")
	assert.NotContains(t, string(private), "PRIVATE KEY")

	t.Setenv(keyring.EnvMasterKey, "")
	_, err = runApp(t, "", "keys", "rotate", "--db", dsn)
	assert.ErrorIs(t, err, keyring.ErrMasterKeyMissing, "an encrypted database needs the master key")
}

func TestServeRejectsInvalidTrustedProxies(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "proxies.db")
	_, err := runApp(t, "", "serve", "--db", dsn, "--addr", "127.0.0.1:0", "--issuer", "http://127.0.0.1:8080",
		"--trusted-proxies", "10.0.0.0/8,proxy.example")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--trusted-proxies")
	assert.Contains(t, err.Error(), "proxy.example")
}
