package billingtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

// recorder is a ClaimRecorder that keeps claims in memory.
type recorder struct {
	claims    []billing.Claim
	responses map[string]billing.Remittance
}

func (r *recorder) RecordClaim(_ context.Context, c billing.Claim, _ billing.Account) (string, error) {
	r.claims = append(r.claims, c)
	return "claim-record-" + c.ID, nil
}

func (r *recorder) ClaimResponse(_ context.Context, id string) (*billing.Remittance, error) {
	rem, ok := r.responses[id]
	if !ok {
		return nil, billing.ErrNotFound
	}
	return &rem, nil
}

func testClaims(t *testing.T, newStore NewStore) {
	rec := &recorder{responses: map[string]billing.Remittance{}}
	f := NewFixture(t, newStore(t), billing.Config{Recorder: rec})
	f.Item(t, "99213", 12000, 0)
	f.Item(t, "36415", 2000, 0)
	acct := f.Account(t, "p1", billing.Coverage{PayerID: "acme", PlanID: "gold", MemberID: "M123", Order: 1})
	f.Charge(t, acct.ID, "99213", 1)
	f.Charge(t, acct.ID, "36415", 1)
	inv := f.Issued(t, acct.ID)

	c, err := f.Service.BuildClaim(f.Ctx, billing.BuildClaimParams{InvoiceID: inv.ID, Diagnoses: []string{"E11.9", "I10"}, By: User})
	require.NoError(t, err)
	assert.Equal(t, billing.ClaimDraft, c.Status)
	assert.Equal(t, int64(14000), c.Total.Amount)
	require.Len(t, c.Lines, 2)
	assert.Equal(t, []int{1, 2}, c.Lines[0].DiagnosisPointers)
	assert.Equal(t, "M123", c.Coverage.MemberID)

	c, err = f.Service.SubmitClaim(f.Ctx, c.ID, User)
	require.NoError(t, err)
	assert.Equal(t, billing.ClaimSubmitted, c.Status)
	assert.Equal(t, "claim-record-"+c.ID, c.RecordID)
	require.Len(t, rec.claims, 1)

	_, err = f.Service.PostRemittance(f.Ctx, billing.Remittance{ClaimID: c.ID, By: User, Lines: []billing.RemittanceLine{
		{Sequence: 1, Paid: USD(12001)},
	}})
	assert.ErrorIs(t, err, billing.ErrOverpayment, "a line cannot be settled above its amount")

	c, err = f.Service.PostRemittance(f.Ctx, billing.Remittance{ClaimID: c.ID, Outcome: "partial", Reference: "EFT1", By: User, Lines: []billing.RemittanceLine{
		{Sequence: 1, Paid: USD(8000), Adjusted: USD(2000), PatientResponsibility: USD(2000)},
	}})
	require.NoError(t, err)
	assert.Equal(t, billing.ClaimPartiallyPaid, c.Status)

	rec.responses["cr1"] = billing.Remittance{ClaimID: c.ID, Outcome: "complete", Reference: "EFT2", Lines: []billing.RemittanceLine{
		{Sequence: 2, Paid: USD(1500), Adjusted: USD(500)},
	}}
	c, err = f.Service.ImportClaimResponse(f.Ctx, "cr1", User)
	require.NoError(t, err)
	assert.Equal(t, billing.ClaimPaid, c.Status)
	assert.Equal(t, int64(9500), c.Paid.Amount)
	assert.Equal(t, int64(2500), c.Adjusted.Amount)
	assert.Equal(t, int64(2000), c.PatientResponsibility.Amount)

	got, err := f.Service.GetInvoice(f.Ctx, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(2000), got.Balance.Amount, "the patient's share remains due")
	payments, err := f.Service.ListPayments(f.Ctx, billing.PaymentFilter{ClaimID: c.ID})
	require.NoError(t, err)
	assert.Len(t, payments, 2)
	_, err = f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: acct.ID, Amount: USD(2000), Payer: "patient", By: User})
	require.NoError(t, err)
	got, err = f.Service.GetInvoice(f.Ctx, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, billing.InvoiceBalanced, got.Status)
	f.CheckLedger(t, acct.ID)

	// A rejection posts no money.
	f.Charge(t, acct.ID, "36415", 1)
	inv2 := f.Issued(t, acct.ID)
	c2, err := f.Service.BuildClaim(f.Ctx, billing.BuildClaimParams{InvoiceID: inv2.ID, Diagnoses: []string{"Z00.00"}, By: User})
	require.NoError(t, err)
	_, err = f.Service.SubmitClaim(f.Ctx, c2.ID, User)
	require.NoError(t, err)
	c2, err = f.Service.PostRemittance(f.Ctx, billing.Remittance{ClaimID: c2.ID, Outcome: "error", Reason: "member not found", By: User})
	require.NoError(t, err)
	assert.Equal(t, billing.ClaimRejected, c2.Status)
	assert.Equal(t, "member not found", c2.Reason)
	got, err = f.Service.GetInvoice(f.Ctx, inv2.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(2000), got.Balance.Amount)
}
