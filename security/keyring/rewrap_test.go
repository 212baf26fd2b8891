package keyring_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security/keyring"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// TestRewrapFindsLateOldVersionRows seals a row under the old version after
// the rewrap pass reached the end, as a process that has not reloaded
// since the rotation does.
func TestRewrapFindsLateOldVersionRows(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		master := newMasterKey(t)
		ring := encrypted(t, db, master)
		store, svc := newEMR(t, db)
		_, err := svc.Create(actor, "Patient", []byte(fakePatient))
		require.NoError(t, err)
		stale := openRing(t, db, master)

		_, err = ring.Rotate(ctx)
		require.NoError(t, err)
		first, err := ring.Rewrap(ctx, store)
		require.NoError(t, err)
		require.True(t, first.Done)
		assert.Equal(t, int64(1), first.RewrappedThisRun)

		// The stale ring still seals under version 1.
		db.Cipher = stale
		late, err := svc.Create(actor, "Patient", []byte(strings.Replace(fakePatient, fakeMRN, fakeMRN+"-late", 1)))
		db.Cipher = ring
		require.NoError(t, err)
		usage, err := store.KeyVersionUsage(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(1), usage[1], "the late row is under version 1")
		assert.ErrorIs(t, ring.Retire(ctx, 1, store), keyring.ErrInUse)

		second, err := ring.Rewrap(ctx, store)
		require.NoError(t, err)
		assert.Equal(t, int64(1), second.RewrappedThisRun, "the count is this run's")
		assert.Equal(t, int64(2), second.Rewrapped)
		usage, err = store.KeyVersionUsage(ctx)
		require.NoError(t, err)
		assert.Zero(t, usage[1])
		require.NoError(t, ring.Retire(ctx, 1, store))

		got, err := svc.Read(actor, "Patient", late.ID)
		require.NoError(t, err)
		assert.Contains(t, string(got.Body), fakeMRN+"-late")
	})
}

// TestRewrapFromStartFindsRowsBehindCursor moves a row back under the old
// version behind the saved cursor, where a late PostgreSQL commit can
// leave one, and checks that only a pass from the start finds it.
func TestRewrapFromStartFindsRowsBehindCursor(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		master := newMasterKey(t)
		ring := encrypted(t, db, master)
		store, svc := newEMR(t, db)
		stale := openRing(t, db, master)
		db.Cipher = stale
		first, err := svc.Create(actor, "Patient", []byte(fakePatient))
		require.NoError(t, err)
		db.Cipher = ring
		_, err = ring.Rotate(ctx)
		require.NoError(t, err)
		_, err = svc.Create(actor, "Patient", []byte(strings.Replace(fakePatient, fakeMRN, fakeMRN+"-2", 1)))
		require.NoError(t, err)

		// Save a cursor past both rows without rewrapping the first.
		_, err = db.Writer.Exec(db.Rebind(`INSERT INTO security_keyring_rewrap
			(component, target_version, cursor, done, rewrapped, updated_at) VALUES (?, 2, 1000000, ?, 0, 0)`), store.Component(), true)
		require.NoError(t, err)
		run, err := ring.Rewrap(ctx, store)
		require.NoError(t, err)
		assert.Zero(t, run.RewrappedThisRun, "the row is behind the cursor")

		run, err = ring.RewrapFromStart(ctx, store)
		require.NoError(t, err)
		assert.Equal(t, int64(1), run.RewrappedThisRun)
		require.NoError(t, ring.Retire(ctx, 1, store))
		_, err = svc.Read(actor, "Patient", first.ID)
		require.NoError(t, err)
	})
}
