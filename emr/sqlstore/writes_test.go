package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestCommittedVersionsCounted(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		require.NoError(t, db.Migrate(ctx, sqlstore.Migrations()))
		store := sqlstore.New(db)
		svc, err := emr.NewService(store, emr.Config{})
		require.NoError(t, err)

		created, err := svc.Create(ctx, "Organization", []byte(`{"resourceType":"Organization","name":"Ward A"}`))
		require.NoError(t, err)
		_, _, err = svc.Update(ctx, emr.UpdateParams{Type: "Organization", ID: created.ID,
			Body: []byte(`{"resourceType":"Organization","name":"Ward B"}`)})
		require.NoError(t, err)
		assert.Equal(t, int64(2), db.Writes(), "a create and an update")

		errRollback := errors.New("roll back")
		err = store.InTx(ctx, func(ctx context.Context, tx emr.Tx) error {
			put := emr.Put{Resource: emr.Resource{Type: "Organization", ID: "rolled-back", VersionID: 1,
				LastUpdated: time.Now().UTC(), Method: "create", Author: "test",
				Body: []byte(`{"resourceType":"Organization","id":"rolled-back"}`)}}
			if err := tx.Put(ctx, put); err != nil {
				return err
			}
			return errRollback
		})
		require.ErrorIs(t, err, errRollback)
		assert.Equal(t, int64(2), db.Writes(), "a rolled back transaction adds nothing")
	})
}
