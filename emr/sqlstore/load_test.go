package sqlstore_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/searchparam"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/internal/benchdata"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		require.NoError(t, db.Migrate(ctx, sqlstore.Migrations()))
		store := sqlstore.New(db)
		svc, err := emr.NewService(store, emr.Config{})
		require.NoError(t, err)
		registry := searchparam.R4()
		now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

		// 1,201 resources span three INSERT statements of 500 rows.
		const patients = 1201
		var puts []emr.Put
		rng := benchdata.PatientSource()
		families := map[string]int{}
		for i := 0; i < patients; i++ {
			tree := benchdata.Patient(rng, i)
			families[tree["name"].([]any)[0].(map[string]any)["family"].(string)]++
			p, err := prepareResource(registry, tree, benchdata.PatientID(i), now)
			require.NoError(t, err)
			puts = append(puts, p)
		}
		puts[0].Identifiers = []emr.Identifier{{System: "urn:bench:mrn", Value: "B0000000"}}
		require.NoError(t, store.Load(ctx, puts))

		res, err := svc.Read(ctx, "Patient", benchdata.PatientID(1200))
		require.NoError(t, err)
		assert.Equal(t, int64(1), res.VersionID)
		assert.Equal(t, "create", res.Method)
		for family, want := range families {
			got, err := svc.Search(ctx, "Patient", url.Values{"family": {family}, "_total": {"accurate"}, "_count": {"1"}})
			require.NoError(t, err)
			assert.Equal(t, want, got.Total, family)
		}
		restricted := emr.ContextWithAccess(ctx, &emr.Access{Patients: []string{benchdata.PatientID(7)}})
		history, err := svc.History(restricted, emr.HistoryQuery{Type: "Patient"})
		require.NoError(t, err)
		require.Len(t, history.Versions, 1, "compartment rows are written")
		assert.Equal(t, benchdata.PatientID(7), history.Versions[0].ID)

		t.Run("again conflicts", func(t *testing.T) {
			extra, err := prepareResource(registry, benchdata.Patient(benchdata.PatientSource(), patients), benchdata.PatientID(patients), now)
			require.NoError(t, err)
			err = store.Load(ctx, []emr.Put{extra, puts[5]})
			assert.ErrorIs(t, err, emr.ErrConflict)
			_, err = svc.Read(ctx, "Patient", benchdata.PatientID(patients))
			assert.ErrorIs(t, err, emr.ErrNotFound, "nothing stored")
		})
		t.Run("twice in one load", func(t *testing.T) {
			extra, err := prepareResource(registry, benchdata.Patient(benchdata.PatientSource(), patients+1), benchdata.PatientID(patients+1), now)
			require.NoError(t, err)
			assert.ErrorIs(t, store.Load(ctx, []emr.Put{extra, extra}), emr.ErrConflict)
		})
		t.Run("later version", func(t *testing.T) {
			later := puts[3]
			later.Resource.VersionID = 2
			err := store.Load(ctx, []emr.Put{later})
			assert.ErrorIs(t, err, emr.ErrInvalid, fmt.Sprint(err))
		})
	})
}
