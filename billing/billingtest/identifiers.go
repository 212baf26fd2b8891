package billingtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

func testIdentifiers(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	f.Item(t, "A", 1000, 0)
	ext := func(value string) billing.Identifier {
		return billing.Identifier{System: "urn:example:ext", Value: value}
	}

	acct, err := f.Service.OpenAccount(f.Ctx, billing.OpenAccountParams{PatientID: "p1", Identifiers: []billing.Identifier{ext("A-1")}, By: User})
	require.NoError(t, err)
	other := f.Account(t, "p2")
	got, err := f.Service.GetAccount(f.Ctx, acct.ID)
	require.NoError(t, err)
	assert.Equal(t, []billing.Identifier{ext("A-1")}, got.Identifiers)
	accounts, err := f.Service.ListAccounts(f.Ctx, billing.AccountFilter{Identifier: &billing.IdentifierMatch{System: "urn:example:ext", Value: "A-1"}})
	require.NoError(t, err)
	require.Len(t, accounts, 1)
	assert.Equal(t, acct.ID, accounts[0].ID)

	_, err = f.Service.UpdateAccount(f.Ctx, billing.UpdateAccountParams{
		ID: acct.ID, Status: billing.AccountActive, Identifiers: []billing.Identifier{ext("A-2"), {Value: "plain"}}, By: User,
	})
	require.NoError(t, err)
	accounts, err = f.Service.ListAccounts(f.Ctx, billing.AccountFilter{Identifier: &billing.IdentifierMatch{Value: "A-1"}})
	require.NoError(t, err)
	assert.Empty(t, accounts, "an update replaces the identifiers")
	accounts, err = f.Service.ListAccounts(f.Ctx, billing.AccountFilter{Identifier: &billing.IdentifierMatch{Value: "plain"}})
	require.NoError(t, err)
	assert.Len(t, accounts, 1, "a value without a system")

	charge, err := f.Service.AddManualCharge(f.Ctx, billing.ManualChargeParams{
		AccountID: acct.ID, Code: "A", Reason: "desk", Identifiers: []billing.Identifier{ext("C-1"), ext("C-2")}, By: User,
	})
	require.NoError(t, err)
	f.Charge(t, other.ID, "A", 1)
	stored, err := f.Service.GetCharge(f.Ctx, charge.ID)
	require.NoError(t, err)
	assert.Equal(t, []billing.Identifier{ext("C-1"), ext("C-2")}, stored.Identifiers)
	charges, err := f.Service.ListCharges(f.Ctx, billing.ChargeFilter{Identifier: &billing.IdentifierMatch{System: "urn:example:ext", Value: "C-2"}})
	require.NoError(t, err)
	require.Len(t, charges, 1)
	assert.Equal(t, charge.ID, charges[0].ID)
	charges, err = f.Service.ListCharges(f.Ctx, billing.ChargeFilter{Identifier: &billing.IdentifierMatch{System: "urn:example:ext"}})
	require.NoError(t, err)
	assert.Len(t, charges, 1, "a system alone matches any of its values")
	charges, err = f.Service.ListCharges(f.Ctx, billing.ChargeFilter{Identifier: &billing.IdentifierMatch{System: "urn:example:other", Value: "C-2"}})
	require.NoError(t, err)
	assert.Empty(t, charges, "the system must match")

	inv, err := f.Service.DraftInvoice(f.Ctx, billing.DraftInvoiceParams{AccountID: acct.ID, Identifiers: []billing.Identifier{ext("I-1")}, Issue: true, By: User})
	require.NoError(t, err)
	stored2, err := f.Service.GetInvoice(f.Ctx, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, []billing.Identifier{ext("I-1")}, stored2.Identifiers)
	invoices, err := f.Service.ListInvoices(f.Ctx, billing.InvoiceFilter{Identifier: &billing.IdentifierMatch{Value: "I-1"}})
	require.NoError(t, err)
	require.Len(t, invoices, 1)
	assert.Equal(t, inv.ID, invoices[0].ID)
	assert.Equal(t, []billing.Identifier{ext("I-1")}, invoices[0].Identifiers)

	for name, ids := range map[string][]billing.Identifier{
		"empty value":   {{System: "urn:example:ext"}},
		"padded value":  {ext(" C-3")},
		"repeated":      {ext("C-3"), ext("C-3")},
		"padded system": {{System: "urn:example:ext ", Value: "C-3"}},
	} {
		_, err := f.Service.AddManualCharge(f.Ctx, billing.ManualChargeParams{AccountID: acct.ID, Code: "A", Reason: "desk", Identifiers: ids, By: User})
		assert.ErrorIs(t, err, billing.ErrInvalid, name)
	}
}
