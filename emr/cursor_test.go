package emr_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// A number at the float64 maximum has an infinite upper bound, which the
// cursor of the next page must still encode.
func TestCursorMaxNumberSearch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := batchService(t, db)
		ctx := context.Background()
		for range 2 {
			_, err := svc.Create(ctx, "Observation", []byte(`{"resourceType":"Observation","status":"final",
				"code":{"text":"x"},"valueQuantity":{"value":5}}`))
			require.NoError(t, err)
		}

		params := url.Values{"value-quantity": {"lt1.7976931348623157e308"}, "_count": {"1"}}
		first, err := svc.Search(ctx, "Observation", params)
		require.NoError(t, err)
		require.Len(t, first.Resources, 1)
		require.NotNil(t, first.Next)

		second, err := svc.Search(ctx, "Observation", first.Next)
		require.NoError(t, err)
		require.Len(t, second.Resources, 1)
		assert.NotEqual(t, first.Resources[0].ID, second.Resources[0].ID)
	})
}
