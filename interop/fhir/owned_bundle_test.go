package fhir_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOwnedBundleCaseVariantRejected checks that a bundle cannot slip a
// billing type past the guard with a member whose name differs from
// "entry" only in letter case. A case-insensitive reading of the JSON
// would take that member in place of the entries that run.
func TestOwnedBundleCaseVariantRejected(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	resp := s.do(http.MethodPost, "", `{"resourceType":"Bundle","type":"batch","entry":[
		{"resource":{"resourceType":"Invoice","status":"draft"},"request":{"method":"POST","url":"Invoice"}}],
		"ENTRY":[{"request":{"method":"GET","url":"Patient/example"}}]}`)
	assert.Equal(t, http.StatusBadRequest, resp.status, "%s", resp.body)

	stored, err := s.svc.Search(context.Background(), "Invoice", url.Values{})
	require.NoError(t, err)
	assert.Empty(t, stored.Resources)
}
