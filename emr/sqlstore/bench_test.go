package sqlstore_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// Sizes of the access filter benchmark data: benchPatients patients with
// benchObservationsEach Observations each, a quarter of them with the
// searched code.
const (
	benchPatients         = 2000
	benchObservationsEach = 5
)

var benchCodes = []string{"8480-6", "8462-4", "8867-4", "9279-1"}

// seedObservations imports the benchmark patients and observations in
// batches of 1,000 resources.
func seedObservations(b *testing.B, svc *emr.Service) {
	b.Helper()
	ctx := emr.ContextWithActor(context.Background(), "system/bench")
	var batch [][]byte
	flush := func() {
		_, err := svc.ImportResources(ctx, batch)
		require.NoError(b, err)
		batch = batch[:0]
	}
	for p := 0; p < benchPatients; p++ {
		batch = append(batch, fmt.Appendf(nil, `{"resourceType":"Patient","id":"p%d","name":[{"family":"Tester"}]}`, p))
		for o := 0; o < benchObservationsEach; o++ {
			code := benchCodes[(p+o)%len(benchCodes)]
			batch = append(batch, fmt.Appendf(nil, `{"resourceType":"Observation","id":"o%d-%d","status":"final",
				"code":{"coding":[{"system":"http://loinc.org","code":"%s"}]},"subject":{"reference":"Patient/p%d"},
				"effectiveDateTime":"2024-%02d-01"}`, p, o, code, p, o+1))
		}
		if len(batch) >= 1000 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}

// BenchmarkAccessSearch compares Observation?code=C&date=geD without an
// access filter and with one of 1 and of 1,000 allowed patients.
func BenchmarkAccessSearch(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			db := backend.Open(b)
			require.NoError(b, db.Migrate(context.Background(), sqlstore.Migrations()))
			svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
			require.NoError(b, err)
			seedObservations(b, svc)
			// nexusd serve refreshes planner statistics the same way.
			require.NoError(b, db.Analyze(context.Background()))
			many := make([]string, 1000)
			for i := range many {
				many[i] = fmt.Sprintf("p%d", i*2)
			}
			params := url.Values{"code": {"http://loinc.org|8480-6"}, "date": {"ge2024-02-01"}, "_count": {"50"}}
			cases := []struct {
				name   string
				access *emr.Access
			}{
				{name: "unrestricted"},
				{name: "1 patient", access: &emr.Access{Patients: []string{"p4"}}},
				{name: "1000 patients", access: &emr.Access{Patients: many}},
			}
			for _, tc := range cases {
				b.Run(tc.name, func(b *testing.B) {
					ctx := context.Background()
					if tc.access != nil {
						ctx = emr.ContextWithAccess(ctx, tc.access)
					}
					res, err := svc.Search(ctx, "Observation", params)
					require.NoError(b, err)
					require.NotEmpty(b, res.Resources)
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if _, err := svc.Search(ctx, "Observation", params); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
