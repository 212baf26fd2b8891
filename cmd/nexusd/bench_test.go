package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// benchDir returns the folder of FHIR files to benchmark on: the one named
// by NEXUS_BENCH_FHIR_DIR (for example a copy of the full Synthea sample),
// or the demo patients.
func benchDir(b *testing.B) string {
	if dir := os.Getenv("NEXUS_BENCH_FHIR_DIR"); dir != "" {
		return dir
	}
	return demoFiles(b)
}

// BenchmarkImport measures nexusd import on a fresh database per
// iteration: validation, indexing and storage of every resource.
func BenchmarkImport(b *testing.B) {
	dir := benchDir(b)
	files, err := importFiles([]string{dir})
	require.NoError(b, err)
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			resources := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				db := backend.Open(b)
				require.NoError(b, db.Migrate(context.Background(), sqlstore.Migrations()))
				svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
				require.NoError(b, err)
				b.StartTimer()
				rep := runImport(context.Background(), svc, files, runtime.GOMAXPROCS(0), io.Discard, io.Discard)
				require.Zero(b, rep.failed)
				resources = 0
				for _, m := range []map[string]int{rep.total.Created, rep.total.Updated, rep.total.Unchanged} {
					for _, n := range m {
						resources += n
					}
				}
				b.StopTimer()
				closeDB(b, db)
				b.StartTimer()
			}
			b.ReportMetric(float64(resources*b.N)/b.Elapsed().Seconds(), "resources/s")
		})
	}
}

func closeDB(b *testing.B, db *storage.DB) {
	require.NoError(b, db.Close())
}

// BenchmarkParseOnly measures github.com/google/fhir/go alone on the same
// resources and the same number of cores: each entry's resource is
// unmarshalled with validation, as the import does, and nothing else.
func BenchmarkParseOnly(b *testing.B) {
	dir := benchDir(b)
	files, err := importFiles([]string{dir})
	require.NoError(b, err)
	var resources [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(b, err)
		var bundle struct {
			Entry []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		require.NoError(b, json.Unmarshal(data, &bundle), filepath.Base(f))
		for _, e := range bundle.Entry {
			resources = append(resources, e.Resource)
		}
	}
	u, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	require.NoError(b, err)
	workers := runtime.GOMAXPROCS(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		next := make(chan []byte)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range next {
					// Synthea's urn:uuid references pass validation as
					// they are, so the bytes need no rewriting first.
					if _, err := u.Unmarshal(r); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for _, r := range resources {
			next <- r
		}
		close(next)
		wg.Wait()
	}
	b.ReportMetric(float64(len(resources)*b.N)/b.Elapsed().Seconds(), "resources/s")
}
