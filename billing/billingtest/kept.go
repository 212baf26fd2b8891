package billingtest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

// testKeptElements checks the documents of unmodelled FHIR elements: per
// version, the latest at or before a version, replaced on a second put.
// A store without billing.KeptElementStore skips the area.
func testKeptElements(t *testing.T, newStore NewStore) {
	store := newStore(t)
	if _, ok := store.(billing.KeptElementStore); !ok {
		t.Skip("the store keeps no unmodelled elements")
	}
	f := NewFixture(t, store, billing.Config{})
	svc, ctx := f.Service, f.Ctx
	require.True(t, svc.KeepsElements())

	none, err := svc.KeptElements(ctx, "Invoice", "i1", 1)
	require.NoError(t, err)
	assert.Nil(t, none, "no document before one is kept")

	require.NoError(t, svc.KeepElements(ctx, "Invoice", "i1", 1, []byte(`{"participant":[{"actor":{"reference":"Practitioner/p"}}]}`)))
	require.NoError(t, svc.KeepElements(ctx, "Invoice", "i1", 3, []byte(`{}`)))
	require.NoError(t, svc.KeepElements(ctx, "ChargeItem", "i1", 1, []byte(`{"performer":[]}`)))

	doc, err := svc.KeptElements(ctx, "Invoice", "i1", 2)
	require.NoError(t, err)
	assert.JSONEq(t, `{"participant":[{"actor":{"reference":"Practitioner/p"}}]}`, string(doc), "version 2 has the document of version 1")
	doc, err = svc.KeptElements(ctx, "Invoice", "i1", 4)
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(doc), "the empty document of version 3 clears what version 1 kept")
	doc, err = svc.KeptElements(ctx, "ChargeItem", "i1", 1)
	require.NoError(t, err)
	assert.JSONEq(t, `{"performer":[]}`, string(doc), "kinds are kept apart")

	require.NoError(t, svc.KeepElements(ctx, "Invoice", "i1", 1, []byte(`{"note":[]}`)))
	doc, err = svc.KeptElements(ctx, "Invoice", "i1", 1)
	require.NoError(t, err)
	assert.JSONEq(t, `{"note":[]}`, string(doc), "a second put replaces the document")

	for name, bad := range map[string][]byte{"array": []byte(`[]`), "not JSON": []byte(`{`), "null": []byte(`null`)} {
		err := svc.KeepElements(ctx, "Invoice", "i1", 5, bad)
		assert.True(t, errors.Is(err, billing.ErrInvalid), "%s: %v", name, err)
	}
	assert.ErrorIs(t, svc.KeepElements(ctx, "Invoice", "i1", 0, []byte(`{}`)), billing.ErrInvalid, "version 0")
	assert.Error(t, svc.KeepElements(ctx, "Claim", "i1", 1, []byte(`{}`)), "a kind that is not a billing resource type")
}
