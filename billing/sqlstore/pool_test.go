package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/billing/billingtest"
	"github.com/nexus-health-360/nexus/billing/sqlstore"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// smallPool is the connection limit of TestConcurrentPaymentsSmallPool,
// far below the suite's 32 concurrent payments.
const smallPool = 2

// TestConcurrentPaymentsSmallPool runs the concurrent payment cases with
// the connection pool limited to two connections. On PostgreSQL the
// writer and the readers share that pool, so a transaction that also
// read through the pool would leave every connection held by a
// transaction waiting for a second one.
func TestConcurrentPaymentsSmallPool(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			billingtest.RunConcurrentPayments(t, func(t *testing.T) billing.Store {
				db := b.Open(t)
				require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
				db.Writer.SetMaxOpenConns(min(smallPool, db.Writer.Stats().MaxOpenConnections))
				db.Reader.SetMaxOpenConns(smallPool)
				return sqlstore.New(db)
			})
		})
	}
}
