package keyring_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security/keyring"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func newMasterKey(t testing.TB) []byte {
	t.Helper()
	key := make([]byte, keyring.MasterKeySize)
	_, err := rand.Read(key)
	require.NoError(t, err)
	return key
}

func migrated(t testing.TB, db *storage.DB) *storage.DB {
	t.Helper()
	require.NoError(t, db.Migrate(context.Background(), keyring.Migrations()))
	return db
}

func openRing(t testing.TB, db *storage.DB, master []byte) *keyring.Ring {
	t.Helper()
	ring, err := keyring.Open(context.Background(), db, keyring.Config{MasterKey: master})
	require.NoError(t, err)
	return ring
}

func TestSealOpenRoundTrip(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ring := openRing(t, migrated(t, db), newMasterKey(t))
		plaintext := []byte(`{"resourceType":"Patient","name":[{"family":"Testperson"}]}`)
		sealed, err := ring.Seal(plaintext, []byte("row 1"))
		require.NoError(t, err)
		assert.False(t, bytes.Contains(sealed, []byte("Testperson")), "ciphertext contains the plaintext")

		version, isSealed, err := storage.ParseSealed(sealed)
		require.NoError(t, err)
		assert.True(t, isSealed)
		assert.Equal(t, uint32(1), version)

		opened, err := ring.Open(sealed, []byte("row 1"))
		require.NoError(t, err)
		assert.Equal(t, plaintext, opened)
	})
}

func TestOpenRejectsTampering(t *testing.T) {
	ring := openRing(t, migrated(t, storagetest.SQLite(t)), newMasterKey(t))
	sealed, err := ring.Seal([]byte("secret value"), []byte("row 1"))
	require.NoError(t, err)

	_, err = ring.Open(sealed, []byte("row 2"))
	assert.ErrorIs(t, err, keyring.ErrOpen, "other associated data")

	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	_, err = ring.Open(flipped, []byte("row 1"))
	assert.ErrorIs(t, err, keyring.ErrOpen, "changed tag")

	body := bytes.Clone(sealed)
	body[storage.SealedHeaderLen+12] ^= 1
	_, err = ring.Open(body, []byte("row 1"))
	assert.ErrorIs(t, err, keyring.ErrOpen, "changed ciphertext")

	_, err = ring.Open(sealed[:storage.SealedHeaderLen+4], []byte("row 1"))
	assert.ErrorIs(t, err, keyring.ErrOpen, "truncated")

	_, err = ring.Open([]byte(`{"plain":true}`), nil)
	assert.ErrorIs(t, err, keyring.ErrOpen, "plaintext")
}

func TestOpenRejectsEditedKeyVersion(t *testing.T) {
	ctx := context.Background()
	ring := openRing(t, migrated(t, storagetest.SQLite(t)), newMasterKey(t))
	sealed, err := ring.Seal([]byte("secret value"), nil)
	require.NoError(t, err)
	_, err = ring.Rotate(ctx)
	require.NoError(t, err)

	// The header is authenticated: naming version 2 does not make a
	// version 1 ciphertext open under the version 2 key.
	edited := bytes.Clone(sealed)
	copy(edited, storage.SealedHeader(2))
	_, err = ring.Open(edited, nil)
	assert.ErrorIs(t, err, keyring.ErrOpen)
}

func TestMasterKeyFailsClosed(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		migrated(t, db)
		inUse, err := keyring.InUse(ctx, db)
		require.NoError(t, err)
		assert.False(t, inUse, "fresh database")

		_, err = keyring.Open(ctx, db, keyring.Config{})
		assert.ErrorIs(t, err, keyring.ErrMasterKeyMissing)

		master := newMasterKey(t)
		openRing(t, db, master)
		inUse, err = keyring.InUse(ctx, db)
		require.NoError(t, err)
		assert.True(t, inUse, "after the first open")

		_, err = keyring.Open(ctx, db, keyring.Config{MasterKey: newMasterKey(t)})
		assert.ErrorIs(t, err, keyring.ErrWrongMasterKey)

		_, err = keyring.Open(ctx, db, keyring.Config{MasterKey: master[:16]})
		assert.ErrorIs(t, err, keyring.ErrInvalid)
	})
}

func TestReopenOpensOldValues(t *testing.T) {
	db := migrated(t, storagetest.SQLite(t))
	master := newMasterKey(t)
	first := openRing(t, db, master)
	sealed, err := first.Seal([]byte("kept"), []byte("aad"))
	require.NoError(t, err)

	second := openRing(t, db, master)
	opened, err := second.Open(sealed, []byte("aad"))
	require.NoError(t, err)
	assert.Equal(t, []byte("kept"), opened)
	assert.Equal(t, first.Hash("d", "v"), second.Hash("d", "v"))
}

func TestRotateKeepsOldVersionsOpen(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		ring := openRing(t, migrated(t, db), newMasterKey(t))
		old, err := ring.Seal([]byte("under v1"), nil)
		require.NoError(t, err)
		hashBefore := ring.Hash("emr.identifier", "MRN-1")

		version, err := ring.Rotate(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint32(2), version)
		assert.Equal(t, uint32(2), ring.ActiveKeyVersion())

		fresh, err := ring.Seal([]byte("under v2"), nil)
		require.NoError(t, err)
		freshVersion, _, err := storage.ParseSealed(fresh)
		require.NoError(t, err)
		assert.Equal(t, uint32(2), freshVersion)

		opened, err := ring.Open(old, nil)
		require.NoError(t, err)
		assert.Equal(t, []byte("under v1"), opened)
		assert.Equal(t, hashBefore, ring.Hash("emr.identifier", "MRN-1"), "hashes survive rotation")

		status, err := ring.Status(ctx)
		require.NoError(t, err)
		require.Len(t, status, 2)
		assert.Equal(t, keyring.DecryptOnly, status[0].State)
		assert.Equal(t, keyring.Active, status[1].State)
	})
}

// usage is a storage.Rewrapper that reports fixed key version counts.
type usage map[uint32]int64

func (u usage) Component() string { return "fake" }

func (u usage) RewrapBatch(context.Context, storage.RewrapParams) (storage.RewrapResult, error) {
	return storage.RewrapResult{Done: true}, nil
}

func (u usage) KeyVersionUsage(context.Context) (map[uint32]int64, error) { return u, nil }

func TestRetireChecksUsage(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		ring := openRing(t, migrated(t, db), newMasterKey(t))
		old, err := ring.Seal([]byte("under v1"), nil)
		require.NoError(t, err)

		err = ring.Retire(ctx, 1)
		assert.ErrorIs(t, err, keyring.ErrInUse, "active version")
		err = ring.Retire(ctx, 9)
		assert.ErrorIs(t, err, keyring.ErrNotFound)

		_, err = ring.Rotate(ctx)
		require.NoError(t, err)
		err = ring.Retire(ctx, 1, usage{1: 3, 2: 10})
		assert.ErrorIs(t, err, keyring.ErrInUse, "rows under version 1")

		require.NoError(t, ring.Retire(ctx, 1, usage{2: 13}))
		_, err = ring.Open(old, nil)
		assert.ErrorIs(t, err, keyring.ErrOpen, "retired version opens nothing")

		status, err := ring.Status(ctx)
		require.NoError(t, err)
		assert.Equal(t, keyring.Retired, status[0].State)
		require.NoError(t, ring.Retire(ctx, 1), "retiring twice is a no-op")
	})
}

func TestOtherProcessSeesRotation(t *testing.T) {
	ctx := context.Background()
	db := migrated(t, storagetest.SQLite(t))
	master := newMasterKey(t)
	first := openRing(t, db, master)
	second := openRing(t, db, master)

	_, err := first.Rotate(ctx)
	require.NoError(t, err)
	sealed, err := first.Seal([]byte("new"), nil)
	require.NoError(t, err)

	opened, err := second.Open(sealed, nil)
	require.NoError(t, err, "an unknown version triggers a reload")
	assert.Equal(t, []byte("new"), opened)
	assert.Equal(t, uint32(2), second.ActiveKeyVersion())
}

func TestHashIsKeyedAndSeparated(t *testing.T) {
	a := openRing(t, migrated(t, storagetest.SQLite(t)), newMasterKey(t))
	b := openRing(t, migrated(t, storagetest.SQLite(t)), newMasterKey(t))

	h := a.Hash("emr.identifier", "MRN-12345")
	assert.Len(t, h, 43)
	assert.Equal(t, h, a.Hash("emr.identifier", "MRN-12345"), "deterministic")
	assert.NotEqual(t, h, a.Hash("emr.match-key", "MRN-12345"), "domain separation")
	assert.NotEqual(t, h, a.Hash("emr.identifier", "MRN-12346"))
	assert.NotEqual(t, h, b.Hash("emr.identifier", "MRN-12345"), "another database's key")
	assert.NotEqual(t, a.Hash("ab", "c"), a.Hash("a", "bc"), "domain boundary")
}

func TestChangeMasterKey(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		oldMaster, newMaster := newMasterKey(t), newMasterKey(t)
		ring := openRing(t, migrated(t, db), oldMaster)
		_, err := ring.Rotate(ctx)
		require.NoError(t, err)
		sealed, err := ring.Seal([]byte("value"), nil)
		require.NoError(t, err)
		hash := ring.Hash("d", "v")

		require.NoError(t, ring.ChangeMasterKey(ctx, newMaster))

		_, err = keyring.Open(ctx, db, keyring.Config{MasterKey: oldMaster})
		assert.ErrorIs(t, err, keyring.ErrWrongMasterKey)
		reopened := openRing(t, db, newMaster)
		opened, err := reopened.Open(sealed, nil)
		require.NoError(t, err)
		assert.Equal(t, []byte("value"), opened)
		assert.Equal(t, hash, reopened.Hash("d", "v"))
		require.NoError(t, ring.Reload(ctx), "the changed ring keeps working")
	})
}

func TestMigrationsUpAndDown(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		set := keyring.Migrations()
		require.NoError(t, db.Migrate(ctx, set))
		require.NoError(t, db.MigrateDown(ctx, set, 0))
		v, err := db.SchemaVersion(ctx, "keyring")
		require.NoError(t, err)
		assert.Equal(t, 0, v)
		require.NoError(t, db.Migrate(ctx, set))
	})
}
