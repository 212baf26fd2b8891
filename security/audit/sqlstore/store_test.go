package sqlstore_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/security/audit/audittest"
	"github.com/nexus-health-360/nexus/security/audit/sqlstore"
	"github.com/nexus-health-360/nexus/security/keyring"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func migrated(t *testing.T, db *storage.DB) *storage.DB {
	t.Helper()
	require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
	return db
}

func TestConformance(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			audittest.Run(t, func(t *testing.T) audit.Store { return sqlstore.New(migrated(t, b.Open(t))) })
		})
	}
}

func TestMigrationsUpAndDown(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		set := sqlstore.Migrations()
		require.NoError(t, db.Migrate(ctx, set))
		require.NoError(t, db.MigrateDown(ctx, set, 0))
		v, err := db.SchemaVersion(ctx, "audit")
		require.NoError(t, err)
		assert.Equal(t, 0, v)
		require.NoError(t, db.Migrate(ctx, set))
	})
}

func TestSigningKeySealedByKeyring(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		require.NoError(t, db.Migrate(ctx, sqlstore.Migrations(), keyring.Migrations()))
		master := make([]byte, keyring.MasterKeySize)
		_, err := rand.Read(master)
		require.NoError(t, err)
		ring, err := keyring.Open(ctx, db, keyring.Config{MasterKey: master})
		require.NoError(t, err)
		db.Cipher, db.Hasher = ring, ring
		store := sqlstore.New(db)
		_, public := audittest.OpenLog(t, store).PublicKey()

		var seed []byte
		require.NoError(t, db.Reader.GetContext(ctx, &seed, `SELECT seed FROM audit_signing_keys`))
		version, sealed, err := storage.ParseSealed(seed)
		require.NoError(t, err)
		assert.True(t, sealed)
		assert.Equal(t, uint32(1), version)

		_, err = ring.Rotate(ctx)
		require.NoError(t, err)
		assert.ErrorIs(t, ring.Retire(ctx, 1, store), keyring.ErrInUse)
		progress, err := ring.Rewrap(ctx, store)
		require.NoError(t, err)
		assert.Equal(t, int64(1), progress.Rewrapped)
		require.NoError(t, ring.Retire(ctx, 1, store))
		_, again := audittest.OpenLog(t, store).PublicKey()
		assert.True(t, public.Equal(again), "the rewrapped key still opens")

		db.Cipher, db.Hasher = nil, nil
		_, err = audit.Open(ctx, sqlstore.New(db), audit.Config{})
		assert.ErrorIs(t, err, storage.ErrNoCipher, "a sealed key without the master key fails closed")
	})
}
