package billingtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

func testHistory(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	acct, err := f.Service.OpenAccount(f.Ctx, billing.OpenAccountParams{
		PatientID: "p1", Identifiers: []billing.Identifier{{System: "urn:example:acct", Value: "A-1"}}, By: User,
	})
	require.NoError(t, err)
	f.Clock.Advance(60e9)
	_, err = f.Service.UpdateAccount(f.Ctx, billing.UpdateAccountParams{
		ID: acct.ID, Version: 1, Status: billing.AccountInactive, Guarantors: []billing.Guarantor{{Party: "RelatedPerson/r1"}}, By: "Practitioner/other",
	})
	require.NoError(t, err)
	versions, err := f.Service.AccountHistory(f.Ctx, acct.ID)
	require.NoError(t, err)
	require.Len(t, versions, 2)
	assert.Equal(t, int64(1), versions[0].Version)
	assert.Equal(t, billing.AccountActive, versions[0].Status)
	assert.Equal(t, []billing.Identifier{{System: "urn:example:acct", Value: "A-1"}}, versions[0].Identifiers)
	assert.Empty(t, versions[0].Guarantors)
	assert.Equal(t, User, versions[0].UpdatedBy)
	assert.Equal(t, Start, versions[0].Updated)
	assert.Equal(t, int64(2), versions[1].Version)
	assert.Equal(t, billing.AccountInactive, versions[1].Status)
	assert.Nil(t, versions[1].Identifiers)
	assert.Equal(t, []billing.Guarantor{{Party: "RelatedPerson/r1"}}, versions[1].Guarantors)
	assert.Equal(t, "Practitioner/other", versions[1].UpdatedBy)
	assert.Equal(t, Start.Add(60e9), versions[1].Updated)
	assert.Equal(t, "p1", versions[1].PatientID, "fixed fields come from the account")
	_, err = f.Service.AccountHistory(f.Ctx, "no-such-account")
	assert.ErrorIs(t, err, billing.ErrNotFound)

	f.Item(t, "A", 1000, 0)
	_, err = f.Service.PutChargeDefinition(f.Ctx, billing.PutChargeDefinitionParams{
		Definition:  billing.ChargeDefinition{Code: "A", Active: true, Prices: []billing.Price{{UnitPrice: USD(1200)}}},
		BaseVersion: 2, By: User,
	})
	assert.ErrorIs(t, err, billing.ErrConflict, "a stale base version")
	_, err = f.Service.PutChargeDefinition(f.Ctx, billing.PutChargeDefinitionParams{
		Definition:  billing.ChargeDefinition{Code: "A", Active: true, Prices: []billing.Price{{UnitPrice: USD(1200)}}},
		BaseVersion: 1, By: "Practitioner/other",
	})
	require.NoError(t, err)
	_, err = f.Service.PutChargeDefinition(f.Ctx, billing.PutChargeDefinitionParams{
		Definition:  billing.ChargeDefinition{Code: "NEW", Active: true, Prices: []billing.Price{{UnitPrice: USD(1)}}},
		BaseVersion: 1, By: User,
	})
	assert.ErrorIs(t, err, billing.ErrConflict, "a base version of an item that does not exist")
	defs, err := f.Service.ChargeDefinitionHistory(f.Ctx, "A")
	require.NoError(t, err)
	require.Len(t, defs, 2)
	assert.Equal(t, int64(1000), defs[0].Prices[0].UnitPrice.Amount)
	assert.Equal(t, int64(1200), defs[1].Prices[0].UnitPrice.Amount)
	assert.Equal(t, "Practitioner/other", defs[1].UpdatedBy)
	_, err = f.Service.ChargeDefinitionHistory(f.Ctx, "NEW")
	assert.ErrorIs(t, err, billing.ErrNotFound)
}
