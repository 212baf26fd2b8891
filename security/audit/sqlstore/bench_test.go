package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/security/audit/audittest"
	"github.com/nexus-health-360/nexus/security/audit/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func openBenchLog(b *testing.B, open func(testing.TB) *storage.DB) (*audit.Log, *sqlstore.Store) {
	b.Helper()
	db := open(b)
	require.NoError(b, db.Migrate(context.Background(), sqlstore.Migrations()))
	store := sqlstore.New(db)
	log, err := audit.Open(context.Background(), store, audit.Config{})
	require.NoError(b, err)
	return log, store
}

// BenchmarkRecord measures one caller recording entries one after the
// other: one append transaction each.
func BenchmarkRecord(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			log, _ := openBenchLog(b, backend.Open)
			entry := audittest.Read("dr-bench", "p1")
			for b.Loop() {
				if err := log.Record(context.Background(), entry); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRecordConcurrent measures 32 callers per CPU recording at once,
// which share append transactions.
func BenchmarkRecordConcurrent(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			log, _ := openBenchLog(b, backend.Open)
			entry := audittest.Read("dr-bench", "p1")
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := log.Record(context.Background(), entry); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkVerify measures verification of a log of 20,000 entries, and the
// entries/s metric is the verify rate.
func BenchmarkVerify(b *testing.B) {
	const entries = 20000
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			log, _ := openBenchLog(b, backend.Open)
			ctx := context.Background()
			results := make(chan error, entries)
			for i := range entries {
				go func() {
					results <- log.Record(ctx, audittest.Read(fmt.Sprintf("u%d", i%50), fmt.Sprintf("p%d", i%500)))
				}()
			}
			for range entries {
				require.NoError(b, <-results)
			}
			for b.Loop() {
				rep, err := log.Verify(ctx)
				if err != nil || !rep.OK() {
					b.Fatal(err, rep.Err())
				}
			}
			b.ReportMetric(float64(entries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
