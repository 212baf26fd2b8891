package emr_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

const visitCriteria = "identifier=urn:test:visit|V1"

func visitBody() []byte {
	return []byte(`{"resourceType":"Encounter","status":"planned",
		"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
		"identifier":[{"system":"urn:test:visit","value":"V1"}]}`)
}

// visitTransaction is a transaction with one conditional create of the
// V1 encounter.
func visitTransaction() []byte {
	return fmt.Appendf(nil, `{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:9d4a0a5e-58a5-4bd4-9a3c-1f1d0c3e7a10",
		"resource":%s,"request":{"method":"POST","url":"Encounter","ifNoneExist":%q}}]}`, visitBody(), visitCriteria)
}

// lookThenCreate is a unit that looks for the V1 encounter and then
// creates it conditionally, as the HL7 v2 mapping does. It returns the
// matches found and the status of the transaction entry.
func lookThenCreate(found *int, status *int) emr.BatchUnit {
	return func(ctx context.Context, bsvc *emr.Service) error {
		matches, err := bsvc.ConditionalMatches(ctx, "Encounter", visitCriteria)
		if err != nil {
			return err
		}
		*found = len(matches)
		resp, err := bsvc.ProcessBundle(ctx, visitTransaction())
		if err != nil {
			return err
		}
		*status = resp.Entries[0].Status
		return nil
	}
}

func visits(t *testing.T, svc *emr.Service) int {
	t.Helper()
	page, err := svc.Search(context.Background(), "Encounter", url.Values{"identifier": {"urn:test:visit|V1"}})
	require.NoError(t, err)
	return len(page.Resources)
}

func TestConditionalMatchesInBatch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := batchService(t, db)
		var found1, status1, found2, status2 int
		errs, err := svc.WriteBatch(context.Background(), []emr.BatchUnit{
			lookThenCreate(&found1, &status1), lookThenCreate(&found2, &status2),
		})
		require.NoError(t, err)
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		assert.Equal(t, 0, found1)
		assert.Equal(t, http.StatusCreated, status1)
		assert.Equal(t, 1, found2, "the second unit sees what the first wrote")
		assert.Equal(t, http.StatusOK, status2, "the second unit's conditional create matches")
		assert.Equal(t, 1, visits(t, svc))
	})
}

func TestConditionalMatchesForgottenAfterWrite(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := batchService(t, db)
		var found, status int
		unit := func(ctx context.Context, bsvc *emr.Service) error {
			matches, err := bsvc.ConditionalMatches(ctx, "Encounter", visitCriteria)
			if err != nil {
				return err
			}
			found = len(matches)
			// A write between the look and the conditional create makes
			// the look's result stale.
			if _, err := bsvc.Create(ctx, "Encounter", visitBody()); err != nil {
				return err
			}
			resp, err := bsvc.ProcessBundle(ctx, visitTransaction())
			if err != nil {
				return err
			}
			status = resp.Entries[0].Status
			return nil
		}
		errs, err := svc.WriteBatch(context.Background(), []emr.BatchUnit{unit})
		require.NoError(t, err)
		require.NoError(t, errs[0])
		assert.Equal(t, 0, found)
		assert.Equal(t, http.StatusOK, status, "the conditional create searches again and matches")
		assert.Equal(t, 1, visits(t, svc))
	})
}

func TestConditionalMatchesConcurrentBatches(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := batchService(t, db)
		const writers = 16
		var wg sync.WaitGroup
		failures := make([]error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var found, status int
				errs, err := svc.WriteBatch(context.Background(), []emr.BatchUnit{lookThenCreate(&found, &status)})
				if err == nil {
					err = errs[0]
				}
				failures[i] = err
			}()
		}
		wg.Wait()
		for i, err := range failures {
			assert.NoError(t, err, "writer %d", i)
		}
		assert.Equal(t, 1, visits(t, svc), "concurrent looks and creates make one encounter")
	})
}

func TestConditionalMatchesOutsideBatch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := batchService(t, db)
		ctx := context.Background()
		matches, err := svc.ConditionalMatches(ctx, "Encounter", visitCriteria)
		require.NoError(t, err)
		assert.Empty(t, matches)

		for range 3 {
			_, err := svc.Create(ctx, "Encounter", visitBody())
			require.NoError(t, err)
		}
		matches, err = svc.ConditionalMatches(ctx, "Encounter", visitCriteria)
		require.NoError(t, err)
		assert.Len(t, matches, 2, "several matches show as two")

		_, err = svc.ConditionalMatches(ctx, "Encounter", "_count=5")
		assert.ErrorIs(t, err, emr.ErrInvalid, "criteria need a search parameter")
	})
}
