package sqlstore_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/security/keyring"
	"github.com/nexus-health-360/nexus/security/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

const (
	testSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	testPEM    = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"
)

var created = time.Date(2025, time.March, 1, 8, 0, 0, 0, time.UTC)

// openRing migrates db with the security and key ring schemas and returns
// a key ring under a new random master key.
func openRing(t *testing.T, db *storage.DB) *keyring.Ring {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, db.Migrate(ctx, sqlstore.Migrations(), keyring.Migrations()))
	master := make([]byte, keyring.MasterKeySize)
	_, err := rand.Read(master)
	require.NoError(t, err)
	ring, err := keyring.Open(ctx, db, keyring.Config{MasterKey: master})
	require.NoError(t, err)
	return ring
}

func addSecrets(t *testing.T, store *sqlstore.Store, username, keyID string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, store.CreateUser(ctx, security.User{Username: username, PasswordHash: "h",
		Roles: []security.Role{security.RolePhysician}, TOTPSecret: testSecret, CreatedAt: created}))
	require.NoError(t, store.RotateSigningKey(ctx, security.SigningKey{ID: keyID, Algorithm: "ES256",
		PrivateKey: testPEM, CreatedAt: created}))
}

func rawSecrets(t *testing.T, db *storage.DB, username, keyID string) (totp, private []byte) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, db.Reader.GetContext(ctx, &totp,
		db.Rebind(`SELECT totp_secret FROM security_users WHERE username = ?`), username))
	require.NoError(t, db.Reader.GetContext(ctx, &private,
		db.Rebind(`SELECT private_key FROM security_signing_keys WHERE id = ?`), keyID))
	return totp, private
}

func TestSecretsSealedWithCipher(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		ring := openRing(t, db)
		db.Cipher, db.Hasher = ring, ring
		store := sqlstore.New(db)
		addSecrets(t, store, "dr.smith", "k1")

		totp, private := rawSecrets(t, db, "dr.smith", "k1")
		assert.NotContains(t, string(totp), testSecret, "the raw TOTP column")
		assert.NotContains(t, string(private), "PRIVATE KEY", "the raw private key column")
		_, sealed, err := storage.ParseSealed(totp)
		require.NoError(t, err)
		assert.True(t, sealed, "the TOTP secret is sealed")
		_, sealed, err = storage.ParseSealed(private)
		require.NoError(t, err)
		assert.True(t, sealed, "the private key is sealed")

		u, err := store.User(ctx, "dr.smith")
		require.NoError(t, err)
		assert.Equal(t, testSecret, u.TOTPSecret)
		keys, err := store.SigningKeys(ctx, created)
		require.NoError(t, err)
		require.Len(t, keys, 1)
		assert.Equal(t, testPEM, keys[0].PrivateKey)

		require.NoError(t, store.CreateUser(ctx, security.User{Username: "clerk", PasswordHash: "h",
			Roles: []security.Role{security.RoleClerk}, CreatedAt: created}))
		clerk, err := store.User(ctx, "clerk")
		require.NoError(t, err)
		assert.Empty(t, clerk.TOTPSecret, "a user without TOTP keeps an empty secret")
	})
}

func TestSecretsFailClosed(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		ring := openRing(t, db)
		db.Cipher, db.Hasher = ring, ring
		store := sqlstore.New(db)
		addSecrets(t, store, "dr.smith", "k1")

		other := openRing(t, storagetest.SQLite(t))
		db.Cipher, db.Hasher = other, other
		_, err := store.User(ctx, "dr.smith")
		assert.Error(t, err, "a TOTP secret under another master key")
		_, err = store.SigningKeys(ctx, created)
		assert.Error(t, err, "a private key under another master key")

		db.Cipher, db.Hasher = nil, nil
		_, err = store.User(ctx, "dr.smith")
		assert.ErrorIs(t, err, storage.ErrNoCipher, "a sealed TOTP secret without a cipher")
		_, err = store.SigningKeys(ctx, created)
		assert.ErrorIs(t, err, storage.ErrNoCipher, "a sealed private key without a cipher")
	})
}

func TestSecretsBoundToRow(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		ring := openRing(t, db)
		db.Cipher, db.Hasher = ring, ring
		store := sqlstore.New(db)
		addSecrets(t, store, "dr.smith", "k1")
		require.NoError(t, store.CreateUser(ctx, security.User{Username: "dr.jones", PasswordHash: "h",
			Roles: []security.Role{security.RolePhysician}, TOTPSecret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", CreatedAt: created}))

		totp, _ := rawSecrets(t, db, "dr.smith", "k1")
		_, err := db.Writer.ExecContext(ctx, db.Rebind(`UPDATE security_users SET totp_secret = ? WHERE username = ?`),
			totp, "dr.jones")
		require.NoError(t, err)
		_, err = store.User(ctx, "dr.jones")
		assert.Error(t, err, "a sealed secret copied to another user does not open")
	})
}

func TestSecretsPlaintextRewrapped(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		ring := openRing(t, db)
		store := sqlstore.New(db)
		addSecrets(t, store, "dr.smith", "k1")
		usage, err := store.KeyVersionUsage(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[uint32]int64{0: 2}, usage, "written without a cipher, both are plaintext")

		db.Cipher, db.Hasher = ring, ring
		u, err := store.User(ctx, "dr.smith")
		require.NoError(t, err)
		assert.Equal(t, testSecret, u.TOTPSecret, "plaintext stays readable with a cipher")

		progress, err := ring.Rewrap(ctx, store)
		require.NoError(t, err)
		assert.Equal(t, int64(2), progress.Rewrapped)
		usage, err = store.KeyVersionUsage(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[uint32]int64{1: 2}, usage)
		totp, private := rawSecrets(t, db, "dr.smith", "k1")
		assert.NotContains(t, string(totp), testSecret)
		assert.NotContains(t, string(private), "PRIVATE KEY")

		_, err = ring.Rotate(ctx)
		require.NoError(t, err)
		assert.ErrorIs(t, ring.Retire(ctx, 1, store), keyring.ErrInUse, "version 1 still seals the secrets")
		_, err = ring.Rewrap(ctx, store)
		require.NoError(t, err)
		require.NoError(t, ring.Retire(ctx, 1, store))
		keys, err := store.SigningKeys(ctx, created)
		require.NoError(t, err)
		require.Len(t, keys, 1)
		assert.Equal(t, testPEM, keys[0].PrivateKey, "the rewrapped key still opens")
	})
}
