package billingtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

func testPayments(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	f.Item(t, "A", 5000, 0)
	acct := f.Account(t, "p1")
	f.Charge(t, acct.ID, "A", 1)
	inv1 := f.Issued(t, acct.ID)
	f.Charge(t, acct.ID, "A", 2)
	inv2 := f.Issued(t, acct.ID)

	// Without allocations, the oldest invoice is paid first.
	pay, err := f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: acct.ID, Amount: USD(7000), Payer: "patient", Method: "card", By: User})
	require.NoError(t, err)
	require.Len(t, pay.Allocations, 2)
	assert.Equal(t, inv1.ID, pay.Allocations[0].InvoiceID)
	assert.Equal(t, int64(5000), pay.Allocations[0].Amount.Amount)
	assert.Equal(t, int64(2000), pay.Allocations[1].Amount.Amount)
	got1, err := f.Service.GetInvoice(f.Ctx, inv1.ID)
	require.NoError(t, err)
	assert.Equal(t, billing.InvoiceBalanced, got1.Status)
	got2, err := f.Service.GetInvoice(f.Ctx, inv2.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(8000), got2.Balance.Amount)

	_, err = f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: acct.ID, Amount: USD(9000), By: User})
	assert.ErrorIs(t, err, billing.ErrOverpayment, "over the balance without AllowCredit")
	pay, err = f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: acct.ID, Amount: USD(9000), AllowCredit: true, By: User})
	require.NoError(t, err)
	assert.Equal(t, int64(1000), pay.Unapplied.Amount)

	_, err = f.Service.Refund(f.Ctx, billing.RefundParams{AccountID: acct.ID, Amount: USD(1001), By: User})
	assert.ErrorIs(t, err, billing.ErrOverpayment)
	refund, err := f.Service.Refund(f.Ctx, billing.RefundParams{AccountID: acct.ID, Amount: USD(1000), Method: "card", By: User})
	require.NoError(t, err)
	assert.Equal(t, billing.PaymentRefund, refund.Kind)

	// Adjustments and write-offs take amounts off an invoice's balance.
	f.Charge(t, acct.ID, "A", 1)
	inv3 := f.Issued(t, acct.ID)
	require.NoError(t, f.Service.Adjust(f.Ctx, billing.AdjustParams{InvoiceID: inv3.ID, Amount: USD(1500), Kind: billing.EntryAdjustment, Reason: "contract", By: User}))
	err = f.Service.Adjust(f.Ctx, billing.AdjustParams{InvoiceID: inv3.ID, Amount: USD(3501), Kind: billing.EntryWriteOff, Reason: "bad debt", By: User})
	assert.ErrorIs(t, err, billing.ErrOverpayment)
	require.NoError(t, f.Service.Adjust(f.Ctx, billing.AdjustParams{InvoiceID: inv3.ID, Amount: USD(3500), Kind: billing.EntryWriteOff, Reason: "bad debt", By: User}))
	got3, err := f.Service.GetInvoice(f.Ctx, inv3.ID)
	require.NoError(t, err)
	assert.Equal(t, billing.InvoiceBalanced, got3.Status)

	st, err := f.Service.Statement(f.Ctx, acct.ID, Start, Start.AddDate(0, 0, 1))
	require.NoError(t, err)
	assert.Len(t, st.Invoices, 3)
	assert.Len(t, st.Payments, 3)
	assert.Zero(t, st.Due.Amount)
	assert.Zero(t, st.Credit.Amount)
	f.CheckLedger(t, acct.ID)
}

func testBadInput(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	f.Item(t, "A", 5000, 0)
	_, err := f.Service.PutChargeDefinition(f.Ctx, billing.PutChargeDefinitionParams{By: User, Definition: billing.ChargeDefinition{
		Code: "E", Active: true, Prices: []billing.Price{{UnitPrice: billing.Money{Amount: 100, Currency: "EUR"}}},
	}})
	require.NoError(t, err)
	acct := f.Account(t, "p1")
	f.Charge(t, acct.ID, "A", 1)
	inv := f.Issued(t, acct.ID)
	before, err := f.Store.Events(f.Ctx, 0, 1000)
	require.NoError(t, err)

	cases := []struct {
		name string
		want error
		run  func() error
	}{
		{"unknown code", billing.ErrUnknownCode, func() error {
			_, err := f.Service.AddManualCharge(f.Ctx, billing.ManualChargeParams{AccountID: acct.ID, Code: "NOPE", Reason: "r", By: User})
			return err
		}},
		{"charge in another currency", billing.ErrCurrencyMismatch, func() error {
			_, err := f.Service.AddManualCharge(f.Ctx, billing.ManualChargeParams{AccountID: acct.ID, Code: "E", Reason: "r", By: User})
			return err
		}},
		{"payment in another currency", billing.ErrCurrencyMismatch, func() error {
			_, err := f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: acct.ID, Amount: billing.Money{Amount: 10, Currency: "EUR"}, By: User})
			return err
		}},
		{"payment over the balance", billing.ErrOverpayment, func() error {
			_, err := f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: acct.ID, Amount: USD(5001), By: User})
			return err
		}},
		{"allocation over the balance", billing.ErrOverpayment, func() error {
			_, err := f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: acct.ID, Amount: USD(6000), AllowCredit: true,
				Allocations: []billing.Allocation{{InvoiceID: inv.ID, Amount: USD(6000)}}, By: User})
			return err
		}},
		{"manual charge without reason", billing.ErrInvalid, func() error {
			_, err := f.Service.AddManualCharge(f.Ctx, billing.ManualChargeParams{AccountID: acct.ID, Code: "A", By: User})
			return err
		}},
		{"write without user", billing.ErrInvalid, func() error {
			_, err := f.Service.AddManualCharge(f.Ctx, billing.ManualChargeParams{AccountID: acct.ID, Code: "A", Reason: "r"})
			return err
		}},
		{"unsupported currency", billing.ErrInvalid, func() error {
			_, err := f.Service.OpenAccount(f.Ctx, billing.OpenAccountParams{PatientID: "p2", Currency: "XXX", By: User})
			return err
		}},
		{"unknown account", billing.ErrNotFound, func() error {
			_, err := f.Service.DraftInvoice(f.Ctx, billing.DraftInvoiceParams{AccountID: "nope", By: User})
			return err
		}},
		{"claim with a bad diagnosis", billing.ErrInvalid, func() error {
			_, err := f.Service.BuildClaim(f.Ctx, billing.BuildClaimParams{InvoiceID: inv.ID, Diagnoses: []string{"not-icd"}, By: User})
			return err
		}},
	}
	for _, c := range cases {
		err := c.run()
		assert.ErrorIs(t, err, c.want, c.name)
		if err != nil {
			assert.NotContains(t, err.Error(), "p1", "%s: no patient id in errors", c.name)
		}
	}
	after, err := f.Store.Events(f.Ctx, 0, 1000)
	require.NoError(t, err)
	assert.Equal(t, len(before), len(after), "rejected writes emit nothing")
	got, err := f.Service.GetInvoice(f.Ctx, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, inv.Balance, got.Balance)
	charges, err := f.Service.ListCharges(f.Ctx, billing.ChargeFilter{AccountID: acct.ID})
	require.NoError(t, err)
	assert.Len(t, charges, 1, "rejected charges are not stored")
	f.CheckLedger(t, acct.ID)
}
