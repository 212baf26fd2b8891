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

// BenchmarkIssueInvoice measures issuing invoices of 20 lines: each
// iteration enters 20 charges, drafts them and issues the draft. The
// invoices/s metric counts issued invoices per second of the whole loop.
func BenchmarkIssueInvoice(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			db := backend.Open(b)
			require.NoError(b, db.Migrate(context.Background(), sqlstore.Migrations()))
			f := billingtest.NewFixture(b, sqlstore.New(db), billing.Config{})
			f.Item(b, "A", 1999, 88750)
			acct := f.Account(b, "p1")
			b.ResetTimer()
			for i := range b.N {
				for range 20 {
					f.Charge(b, acct.ID, "A", 1)
				}
				inv := f.Issued(b, acct.ID)
				if len(inv.Lines) != 20 {
					b.Fatalf("iteration %d: invoice has %d lines, expected 20", i, len(inv.Lines))
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invoices/s")
		})
	}
}
