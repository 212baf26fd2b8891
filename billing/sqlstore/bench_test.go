package sqlstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
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

// BenchmarkIssueStep measures the issue step alone: each iteration's 20
// charges and draft are made with the timer stopped, and only
// IssueInvoice (the next number, the guarded update, the ledger postings
// and the outbox event, in one transaction) is timed.
func BenchmarkIssueStep(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			db := backend.Open(b)
			require.NoError(b, db.Migrate(context.Background(), sqlstore.Migrations()))
			f := billingtest.NewFixture(b, sqlstore.New(db), billing.Config{})
			f.Item(b, "A", 1999, 88750)
			acct := f.Account(b, "p1")
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				for range 20 {
					f.Charge(b, acct.ID, "A", 1)
				}
				draft, err := f.Service.DraftInvoice(f.Ctx, billing.DraftInvoiceParams{AccountID: acct.ID, By: billingtest.User})
				require.NoError(b, err)
				b.StartTimer()
				inv, err := f.Service.IssueInvoice(f.Ctx, draft.ID, billingtest.User)
				if err != nil || len(inv.Lines) != 20 || inv.Number != int64(i+1) {
					b.Fatalf("iteration %d: issue failed or invoice is wrong: %v", i, err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invoices/s")
		})
	}
}

// BenchmarkParallelPayments measures PostPayment from 8 goroutines per
// CPU at once, each payment on its own account and paying that
// account's one invoice in full. Accounts and invoices are made with the
// timer stopped. The payments/s metric counts committed payments per
// second of the timed loop.
func BenchmarkParallelPayments(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			db := backend.Open(b)
			require.NoError(b, db.Migrate(context.Background(), sqlstore.Migrations()))
			f := billingtest.NewFixture(b, sqlstore.New(db), billing.Config{})
			f.Item(b, "A", 1999, 0)
			accounts := make([]string, b.N)
			for i := range b.N {
				acct := f.Account(b, fmt.Sprintf("p%d", i))
				f.Charge(b, acct.ID, "A", 1)
				f.Issued(b, acct.ID)
				accounts[i] = acct.ID
			}
			var next atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := accounts[next.Add(1)-1]
					_, err := f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: id, Amount: billingtest.USD(1999), By: billingtest.User})
					if err != nil {
						b.Errorf("payment on account %s: %v", id, err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payments/s")
		})
	}
}
