package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/searchparam"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/internal/benchdata"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// loadChunk is the number of resources per transaction of the bulk load.
const loadChunk = 5000

// envInt reads a positive integer from the environment, or returns def.
func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s must be a positive integer, got %q", name, v)
	}
	return n
}

// preparedChunk is one transaction's worth of loaded resources.
type preparedChunk struct {
	puts []emr.Put
	err  error
}

// prepareResource turns a generated resource into the emr.Put of its
// first version: the body with meta set, its search index entries and its
// patient compartment.
func prepareResource(registry *searchparam.Registry, tree map[string]any, patient string, now time.Time) (emr.Put, error) {
	typ, _ := tree["resourceType"].(string)
	id, _ := tree["id"].(string)
	tree["meta"] = map[string]any{"versionId": "1", "lastUpdated": now.Format("2006-01-02T15:04:05.000Z07:00")}
	body, err := json.Marshal(tree)
	if err != nil {
		return emr.Put{}, err
	}
	entries, err := registry.Extract(typ, tree)
	if err != nil {
		return emr.Put{}, fmt.Errorf("index %s/%s: %w", typ, id, err)
	}
	index := entries[:0]
	for _, e := range entries {
		// Search reads _id and _lastUpdated from the resources table.
		if e.Param != "_id" && e.Param != "_lastUpdated" {
			index = append(index, e)
		}
	}
	sum := sha256.Sum256(body)
	return emr.Put{
		Resource: emr.Resource{Type: typ, ID: id, VersionID: 1, LastUpdated: now, Body: body,
			Author: "system/bench", Method: "create"},
		ContentHash: hex.EncodeToString(sum[:]),
		Index:       index,
		Patients:    []string{patient},
	}, nil
}

// bulkLoad stores patients Patients and observations Observations from
// package benchdata with Store.Load, loadChunk resources per transaction,
// while another goroutine prepares the next chunk. It skips what Service
// adds to a write (validation, outbox events, master patient index keys),
// which the benchmarked searches do not read, and returns the load rate
// in resources per second.
func bulkLoad(b *testing.B, store *sqlstore.Store, patients, observations int) float64 {
	b.Helper()
	registry := searchparam.R4()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	chunks := make(chan preparedChunk, 2)
	go func() {
		defer close(chunks)
		var puts []emr.Put
		count := 0
		emit := func(tree map[string]any, patient string) bool {
			// Each resource gets its own time, one millisecond apart, as
			// resources written one by one do.
			count++
			p, err := prepareResource(registry, tree, patient, now.Add(time.Duration(count)*time.Millisecond))
			if err != nil {
				chunks <- preparedChunk{err: err}
				return false
			}
			puts = append(puts, p)
			if len(puts) == loadChunk {
				chunks <- preparedChunk{puts: puts}
				puts = nil
			}
			return true
		}
		rng := benchdata.PatientSource()
		for i := 0; i < patients; i++ {
			if !emit(benchdata.Patient(rng, i), benchdata.PatientID(i)) {
				return
			}
		}
		rng = benchdata.ObservationSource()
		for i := 0; i < observations; i++ {
			o := benchdata.Observation(rng, i, patients)
			ref := o["subject"].(map[string]any)["reference"].(string)
			if !emit(o, ref[len("Patient/"):]) {
				return
			}
		}
		if len(puts) > 0 {
			chunks <- preparedChunk{puts: puts}
		}
	}()
	start := time.Now()
	ctx := context.Background()
	loaded := 0
	for chunk := range chunks {
		require.NoError(b, chunk.err)
		require.NoError(b, store.Load(ctx, chunk.puts))
		loaded += len(chunk.puts)
	}
	require.Equal(b, patients+observations, loaded)
	return float64(loaded) / time.Since(start).Seconds()
}

// measureLatency runs search b.N times with the parameters next returns
// and reports the median and 99th percentile latency in milliseconds.
func measureLatency(b *testing.B, search func(url.Values) error, next func() url.Values) {
	b.Helper()
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		params := next()
		start := time.Now()
		if err := search(params); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(durations)
	ms := func(q float64) float64 {
		return float64(durations[int(q*float64(len(durations)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// BenchmarkSearchScale measures FHIR searches through emr.Service on
// NEXUS_BENCH_PATIENTS patients (100,000 by default) and
// NEXUS_BENCH_OBSERVATIONS observations (1,000,000), loaded in bulk, on
// SQLite and on PostgreSQL. It runs only when NEXUS_BENCH_SCALE=1,
// because the load takes minutes.
func BenchmarkSearchScale(b *testing.B) {
	if os.Getenv("NEXUS_BENCH_SCALE") != "1" {
		b.Skip("set NEXUS_BENCH_SCALE=1 to run; it loads 1,100,000 resources per backend")
	}
	patients := envInt(b, "NEXUS_BENCH_PATIENTS", 100000)
	observations := envInt(b, "NEXUS_BENCH_OBSERVATIONS", 1000000)
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			db := backend.Open(b)
			ctx := context.Background()
			require.NoError(b, db.Migrate(ctx, sqlstore.Migrations()))
			store := sqlstore.New(db)
			svc, err := emr.NewService(store, emr.Config{})
			require.NoError(b, err)
			start := time.Now()
			rate := bulkLoad(b, store, patients, observations)
			// nexusd serve refreshes planner statistics the same way.
			require.NoError(b, db.Analyze(ctx))
			b.Logf("%s: loaded %d patients and %d observations in %s (%.0f resources/s), analyzed",
				backend.Name, patients, observations, time.Since(start).Round(time.Second), rate)
			runScaleCases(b, svc, patients)
		})
	}
}

func runScaleCases(b *testing.B, svc *emr.Service, patients int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	search := func(typ string, minimum int) func(url.Values) error {
		return func(params url.Values) error {
			res, err := svc.Search(ctx, typ, params)
			if err != nil {
				return err
			}
			if len(res.Resources) < minimum {
				return fmt.Errorf("%s?%s: %d matches, expected at least %d", typ, params.Encode(), len(res.Resources), minimum)
			}
			return nil
		}
	}
	b.Run("patient by family and birthdate", func(b *testing.B) {
		measureLatency(b, search("Patient", 0), func() url.Values {
			return url.Values{
				"family":    {benchdata.Families[rng.IntN(len(benchdata.Families))]},
				"birthdate": {fmt.Sprintf("%04d-%02d-%02d", 1930+rng.IntN(90), 1+rng.IntN(12), 1+rng.IntN(28))},
			}
		})
	})
	b.Run("observation by patient, code and date", func(b *testing.B) {
		measureLatency(b, search("Observation", 0), func() url.Values {
			return url.Values{
				"patient": {"Patient/" + benchdata.PatientID(rng.IntN(patients))},
				"code":    {"http://loinc.org|" + benchdata.LOINC[rng.IntN(len(benchdata.LOINC))]},
				"date":    {fmt.Sprintf("ge%d-01-01", 2020+rng.IntN(5))},
			}
		})
	})
	b.Run("include over 100 results", func(b *testing.B) {
		measureLatency(b, search("Observation", 100), func() url.Values {
			return url.Values{
				"code":     {"http://loinc.org|" + benchdata.LOINC[rng.IntN(len(benchdata.LOINC))]},
				"date":     {fmt.Sprintf("ge%d-01-01", 2020+rng.IntN(4))},
				"_count":   {"100"},
				"_include": {"Observation:subject"},
			}
		})
	})
	b.Run("bulk export", func(b *testing.B) {
		// One export reads every resource, so it runs once per call
		// whatever b.N is, and ns/op is meaningless here.
		start := time.Now()
		counts, err := svc.Export(ctx, emr.ExportParams{Types: []string{"Observation", "Patient"}},
			func(string) (io.Writer, error) { return io.Discard, nil })
		require.NoError(b, err)
		total := 0
		for _, n := range counts {
			total += n
		}
		b.ReportMetric(float64(total)/time.Since(start).Seconds(), "resources/s")
	})
}
