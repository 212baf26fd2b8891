package billingtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

func testInvoices(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	// 8.875 % tax on 3 × 19.99: gross 59.97, tax 5.3223... rounds to 5.32.
	f.Item(t, "A", 1999, 88750)
	f.Item(t, "B", 250, 0, billing.Price{PayerID: "acme", UnitPrice: USD(200), Discount: 125000})
	acct := f.Account(t, "p1", billing.Coverage{PayerID: "acme", MemberID: "M1", Order: 1})
	f.Charge(t, acct.ID, "A", 3)
	f.Charge(t, acct.ID, "B", 1)

	draft, err := f.Service.DraftInvoice(f.Ctx, billing.DraftInvoiceParams{AccountID: acct.ID, By: User})
	require.NoError(t, err)
	assert.Equal(t, billing.InvoiceDraft, draft.Status)
	assert.Zero(t, draft.Number)
	require.Len(t, draft.Lines, 2)
	assert.Equal(t, int64(5997), draft.Lines[0].Net.Amount)
	assert.Equal(t, int64(532), draft.Lines[0].Tax.Amount)
	assert.Equal(t, int64(25), draft.Lines[1].Discount.Amount, "12.5 % of 2.00")
	assert.Equal(t, int64(175), draft.Lines[1].Net.Amount)
	assert.Equal(t, int64(5997+175), draft.TotalNet.Amount)
	assert.Equal(t, int64(532), draft.TotalTax.Amount)
	assert.Equal(t, int64(5997+175+532), draft.TotalGross.Amount)

	_, err = f.Service.DraftInvoice(f.Ctx, billing.DraftInvoiceParams{AccountID: acct.ID, By: User})
	assert.ErrorIs(t, err, billing.ErrInvalid, "a draft holds its charges")

	inv, err := f.Service.IssueInvoice(f.Ctx, draft.ID, User)
	require.NoError(t, err)
	assert.Equal(t, billing.InvoiceIssued, inv.Status)
	assert.Equal(t, int64(1), inv.Number)
	assert.Equal(t, inv.TotalGross, inv.Balance)
	_, err = f.Service.IssueInvoice(f.Ctx, draft.ID, User)
	assert.ErrorIs(t, err, billing.ErrConflict, "an invoice is issued once")

	charges, err := f.Service.ListCharges(f.Ctx, billing.ChargeFilter{AccountID: acct.ID})
	require.NoError(t, err)
	for _, c := range charges {
		assert.Equal(t, billing.ChargeBilled, c.Status)
		assert.Equal(t, inv.ID, c.InvoiceID)
	}
	history, err := f.Service.InvoiceHistory(f.Ctx, inv.ID)
	require.NoError(t, err)
	require.Len(t, history, 2)
	assert.Equal(t, billing.InvoiceIssued, history[1].Status)
	assert.Equal(t, User, history[1].ChangedBy)

	// A discarded draft gets no number, and the next issue takes 2.
	f.Charge(t, acct.ID, "A", 1)
	d2, err := f.Service.DraftInvoice(f.Ctx, billing.DraftInvoiceParams{AccountID: acct.ID, By: User})
	require.NoError(t, err)
	_, err = f.Service.DiscardDraft(f.Ctx, d2.ID, "wrong account", User)
	require.NoError(t, err)
	inv2 := f.Issued(t, acct.ID)
	assert.Equal(t, int64(2), inv2.Number)
	f.CheckLedger(t, acct.ID)
}

func testCreditNotes(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	f.Item(t, "A", 10000, 200000)
	acct := f.Account(t, "p1")
	c := f.Charge(t, acct.ID, "A", 1)
	inv := f.Issued(t, acct.ID)
	assert.Equal(t, int64(12000), inv.TotalGross.Amount)

	cn, err := f.Service.CancelInvoice(f.Ctx, billing.CancelInvoiceParams{InvoiceID: inv.ID, Reason: "wrong patient", By: User})
	require.NoError(t, err)
	assert.Equal(t, billing.KindCreditNote, cn.Kind)
	assert.Equal(t, int64(1), cn.Number, "credit notes have their own sequence")
	assert.Equal(t, int64(-12000), cn.TotalGross.Amount)
	assert.Equal(t, inv.ID, cn.Credits)
	got, err := f.Service.GetInvoice(f.Ctx, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, billing.InvoiceCancelled, got.Status)
	assert.Equal(t, cn.ID, got.CreditedBy)
	assert.Zero(t, got.Balance.Amount)
	assert.Equal(t, int64(1), got.Number, "a cancelled invoice keeps its number")

	open, err := f.Service.ListCharges(f.Ctx, billing.ChargeFilter{AccountID: acct.ID, OpenOnly: true})
	require.NoError(t, err)
	require.Len(t, open, 1, "the charge is open again")
	assert.Equal(t, c.ID, open[0].ID)
	_, err = f.Service.CancelInvoice(f.Ctx, billing.CancelInvoiceParams{InvoiceID: inv.ID, Reason: "again", By: User})
	assert.ErrorIs(t, err, billing.ErrConflict)

	// A paid invoice is not cancelled before its payment is dealt with.
	inv2 := f.Issued(t, acct.ID)
	assert.Equal(t, int64(2), inv2.Number)
	_, err = f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: acct.ID, Amount: USD(100), By: User})
	require.NoError(t, err)
	_, err = f.Service.CancelInvoice(f.Ctx, billing.CancelInvoiceParams{InvoiceID: inv2.ID, Reason: "x", By: User})
	assert.ErrorIs(t, err, billing.ErrConflict)

	// Reversing a billed charge puts a credit on the next invoice, which
	// the account keeps as credit.
	open, err = f.Service.ListCharges(f.Ctx, billing.ChargeFilter{InvoiceID: inv2.ID})
	require.NoError(t, err)
	_, err = f.Service.ReverseCharge(f.Ctx, billing.ReverseChargeParams{ChargeID: open[0].ID, Reason: "not done", By: User})
	require.NoError(t, err)
	credit := f.Issued(t, acct.ID)
	assert.Equal(t, int64(-12000), credit.TotalGross.Amount)
	assert.Zero(t, credit.Balance.Amount)
	st, err := f.Service.Statement(f.Ctx, acct.ID, Start.AddDate(0, -1, 0), Start.AddDate(0, 1, 0))
	require.NoError(t, err)
	assert.Equal(t, int64(12000), st.Credit.Amount, "the reversal is held as credit")
	assert.Equal(t, int64(11900-12000), st.Due.Amount, "the open balance less the credit")
	f.CheckLedger(t, acct.ID)
}
