package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/billing/billingtest"
	"github.com/nexus-health-360/nexus/billing/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestConformance(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			billingtest.Run(t, func(t *testing.T) billing.Store {
				db := b.Open(t)
				require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
				return sqlstore.New(db)
			})
		})
	}
}

func TestMigrationsUpAndDown(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		set := sqlstore.Migrations()
		require.NoError(t, db.Migrate(ctx, set))
		v, err := db.SchemaVersion(ctx, "billing")
		require.NoError(t, err)
		require.Equal(t, 6, v)
		require.NoError(t, db.MigrateDown(ctx, set, 0))
		v, err = db.SchemaVersion(ctx, "billing")
		require.NoError(t, err)
		require.Equal(t, 0, v)
		require.NoError(t, db.Migrate(ctx, set), "migrations apply again after going down")
	})
}
