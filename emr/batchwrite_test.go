package emr_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func batchService(t *testing.T, db *storage.DB) *emr.Service {
	t.Helper()
	require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	require.NoError(t, err)
	return svc
}

func patientBody(mrn string) []byte {
	return fmt.Appendf(nil, `{"resourceType":"Patient","identifier":[{"system":"urn:test:mrn","value":%q}]}`, mrn)
}

func patientsWith(t *testing.T, svc *emr.Service, mrn string) int {
	t.Helper()
	page, err := svc.Search(context.Background(), "Patient", url.Values{"identifier": {"urn:test:mrn|" + mrn}})
	require.NoError(t, err)
	return len(page.Resources)
}

func TestWriteBatchIsolatesFailedUnit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := batchService(t, db)
		errUnit := errors.New("unit failed after writing")
		create := func(mrn string, fail error) emr.BatchUnit {
			return func(ctx context.Context, bsvc *emr.Service) error {
				if _, err := bsvc.Create(ctx, "Patient", patientBody(mrn)); err != nil {
					return err
				}
				return fail
			}
		}
		invalid := func(ctx context.Context, bsvc *emr.Service) error {
			_, err := bsvc.Create(ctx, "Patient", []byte(`{"resourceType":"Patient","gender":"unknown-value"}`))
			return err
		}
		errs, err := svc.WriteBatch(context.Background(), []emr.BatchUnit{
			create("B1", nil), create("B2", errUnit), invalid, create("B4", nil),
		})
		require.NoError(t, err)
		require.Len(t, errs, 4)
		assert.NoError(t, errs[0])
		assert.ErrorIs(t, errs[1], errUnit)
		assert.ErrorIs(t, errs[2], emr.ErrInvalid)
		assert.NoError(t, errs[3])

		assert.Equal(t, 1, patientsWith(t, svc, "B1"))
		assert.Zero(t, patientsWith(t, svc, "B2"), "a failed unit leaves nothing")
		assert.Equal(t, 1, patientsWith(t, svc, "B4"))
	})
}

func TestWriteBatchUnitsSeeEarlierWrites(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := batchService(t, db)
		var id string
		write := func(ctx context.Context, bsvc *emr.Service) error {
			r, err := bsvc.Create(ctx, "Patient", patientBody("S1"))
			if err == nil {
				id = r.ID
			}
			return err
		}
		var found int
		var read error
		check := func(ctx context.Context, bsvc *emr.Service) error {
			page, err := bsvc.Search(ctx, "Patient", url.Values{"identifier": {"urn:test:mrn|S1"}})
			if err != nil {
				return err
			}
			found = len(page.Resources)
			_, read = bsvc.Read(ctx, "Patient", id)
			return nil
		}
		errs, err := svc.WriteBatch(context.Background(), []emr.BatchUnit{write, check})
		require.NoError(t, err)
		assert.NoError(t, errs[0])
		assert.NoError(t, errs[1])
		assert.Equal(t, 1, found, "a unit finds what an earlier unit of the batch wrote")
		assert.NoError(t, read)
	})
}

func TestWriteBatchEmpty(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		errs, err := batchService(t, db).WriteBatch(context.Background(), nil)
		require.NoError(t, err)
		assert.Empty(t, errs)
	})
}

func TestWriteBatchStaleVersionFailsAlone(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := batchService(t, db)
		stored, err := svc.Create(context.Background(), "Patient", patientBody("V1"))
		require.NoError(t, err)
		attempts := 0
		stale := func(ctx context.Context, bsvc *emr.Service) error {
			attempts++
			_, _, err := bsvc.Update(ctx, emr.UpdateParams{
				Type: "Patient", ID: stored.ID, Body: patientBody("V1-changed"), IfMatch: stored.VersionID + 1,
			})
			return err
		}
		create := func(ctx context.Context, bsvc *emr.Service) error {
			_, err := bsvc.Create(ctx, "Patient", patientBody("V2"))
			return err
		}
		errs, err := svc.WriteBatch(context.Background(), []emr.BatchUnit{stale, create})
		require.NoError(t, err)
		assert.ErrorIs(t, errs[0], emr.ErrVersionMismatch)
		assert.NoError(t, errs[1])
		assert.Greater(t, attempts, 1, "a version mismatch runs the batch again first")
		assert.Equal(t, 1, patientsWith(t, svc, "V2"))
	})
}
