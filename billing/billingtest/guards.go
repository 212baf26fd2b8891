package billingtest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

// testDatabaseGuards writes through the Store directly, bypassing the
// service's checks, and expects the store to reject what breaks an
// invariant.
func testDatabaseGuards(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	f.Item(t, "A", 1000, 0)
	acct := f.Account(t, "p1")
	c := f.Charge(t, acct.ID, "A", 1)
	inv := f.Issued(t, acct.ID)
	errStop := errors.New("stop")

	err := f.Store.InTx(f.Ctx, func(ctx context.Context, tx billing.Tx) error {
		return tx.Post(ctx, []billing.Entry{{
			JournalID: "j", Kind: billing.EntryAllocation, Debit: billing.BookUnapplied, Credit: billing.BookReceivable,
			Amount: USD(1001), AccountID: acct.ID, InvoiceID: inv.ID, Posted: Start, PostedBy: User,
		}})
	})
	assert.ErrorIs(t, err, billing.ErrOverpayment, "a receivable never goes below zero")

	err = f.Store.InTx(f.Ctx, func(ctx context.Context, tx billing.Tx) error {
		return tx.UpdateInvoice(ctx, billing.InvoiceUpdate{ID: inv.ID, FromStatus: billing.InvoiceIssued,
			Status: billing.InvoiceIssued, Version: inv.Version + 1, Number: 99, At: Start, By: User})
	})
	assert.ErrorIs(t, err, billing.ErrConflict, "an issued invoice keeps its number")

	err = f.Store.InTx(f.Ctx, func(ctx context.Context, tx billing.Tx) error {
		return tx.InsertCharge(ctx, billing.Charge{ID: "dup", AccountID: acct.ID, Code: "A", Quantity: 1,
			UnitPrice: USD(1), Source: "s", SourceEventID: "e", EnteredBy: User})
	})
	require.NoError(t, err)
	err = f.Store.InTx(f.Ctx, func(ctx context.Context, tx billing.Tx) error {
		return tx.InsertCharge(ctx, billing.Charge{ID: "dup2", AccountID: acct.ID, Code: "A", Quantity: 1,
			UnitPrice: USD(1), Source: "s", SourceEventID: "e", EnteredBy: User})
	})
	assert.ErrorIs(t, err, billing.ErrConflict, "one charge per source event")

	// Totals that differ from the lines are never issued.
	bad := billing.Invoice{ID: "bad", Kind: billing.KindInvoice, AccountID: acct.ID, FacilityID: "main", Currency: "USD",
		TotalNet: USD(5), TotalTax: USD(0), TotalGross: USD(5), Version: 1, Created: Start, Updated: Start, UpdatedBy: User,
		Lines: []billing.InvoiceLine{{Sequence: 1, ChargeID: "dup", Code: "A", Quantity: 1, UnitPrice: USD(1),
			LineAmounts: billing.LineAmounts{Gross: USD(1), Net: USD(1), Total: USD(1)}}}}
	err = f.Store.InTx(f.Ctx, func(ctx context.Context, tx billing.Tx) error {
		if err := tx.InsertInvoice(ctx, bad); err != nil {
			return err
		}
		return tx.UpdateInvoice(ctx, billing.InvoiceUpdate{ID: "bad", FromStatus: billing.InvoiceDraft,
			Status: billing.InvoiceIssued, Version: 2, Number: 2, At: Start, By: User})
	})
	assert.ErrorIs(t, err, billing.ErrConflict)

	// A charge is held by at most one open invoice.
	err = f.Store.InTx(f.Ctx, func(ctx context.Context, tx billing.Tx) error {
		again := bad
		again.ID, again.TotalNet, again.TotalGross = "again", USD(1), USD(1)
		again.Lines = []billing.InvoiceLine{bad.Lines[0]}
		again.Lines[0].ChargeID = c.ID
		return tx.InsertInvoice(ctx, again)
	})
	assert.ErrorIs(t, err, billing.ErrConflict)

	// A rolled back number is given again, so numbers have no gaps.
	var first, second int64
	err = f.Store.InTx(f.Ctx, func(ctx context.Context, tx billing.Tx) error {
		n, err := tx.NextNumber(ctx, "main", billing.KindInvoice)
		first = n
		if err != nil {
			return err
		}
		return errStop
	})
	require.ErrorIs(t, err, errStop)
	require.NoError(t, f.Store.InTx(f.Ctx, func(ctx context.Context, tx billing.Tx) error {
		n, err := tx.NextNumber(ctx, "main", billing.KindInvoice)
		second = n
		return err
	}))
	assert.Equal(t, int64(2), first)
	assert.Equal(t, first, second)
}

func testEvents(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	f.Item(t, "A", 1000, 0)
	_, _, err := f.Service.Capture(f.Ctx, billing.SourceEvent{Source: "scheduling", EventID: "e1", PatientID: "secret-patient", Code: "A"})
	require.NoError(t, err)
	accounts, err := f.Service.ListAccounts(f.Ctx, billing.AccountFilter{PatientID: "secret-patient"})
	require.NoError(t, err)
	inv := f.Issued(t, accounts[0].ID)
	_, err = f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: inv.AccountID, Amount: USD(1000), By: User})
	require.NoError(t, err)
	events, err := f.Store.Events(f.Ctx, 0, 100)
	require.NoError(t, err)
	var types []string
	for i, e := range events {
		types = append(types, e.Type)
		assert.NotContains(t, string(e.Data), "secret-patient", "event data holds no patient id")
		if i > 0 {
			assert.Greater(t, e.Position, events[i-1].Position)
		}
	}
	assert.Equal(t, []string{billing.EventAccountChanged, billing.EventChargeCaptured, billing.EventInvoiceDrafted,
		billing.EventInvoiceIssued, billing.EventPaymentPosted}, types)
	later, err := f.Store.Events(f.Ctx, events[2].Position, 100)
	require.NoError(t, err)
	assert.Len(t, later, 2)
}
