package billingtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

// hangGuard bounds each concurrent payment case, so a store whose
// transactions wait on each other fails with context errors instead of
// hanging the test run. It is not a timing check: a working store
// finishes far inside it.
const hangGuard = 2 * time.Minute

// RunConcurrentPayments runs the concurrent payment cases alone. A
// backend runs them a second time on a connection pool smaller than the
// number of concurrent payments, which shows that a payment holds one
// connection at a time and never reads through the pool while its
// transaction is open.
func RunConcurrentPayments(t *testing.T, newStore NewStore) {
	t.Run("distinct accounts", func(t *testing.T) { testPaymentsOnDistinctAccounts(t, newStore) })
	t.Run("one account", func(t *testing.T) { testPaymentsOnOneAccount(t, newStore) })
	t.Run("payments and adjustments", func(t *testing.T) { testPaymentsAndAdjustments(t, newStore) })
}

// testPaymentsOnDistinctAccounts pays 32 invoices of 32 accounts at
// once. Nothing is shared between the payments, so every one succeeds.
func testPaymentsOnDistinctAccounts(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	f.Item(t, "A", 1000, 0)
	const n = 32
	invoices := make([]*billing.Invoice, n)
	for i := range n {
		acct := f.Account(t, fmt.Sprintf("p%d", i))
		f.Charge(t, acct.ID, "A", 1)
		invoices[i] = f.Issued(t, acct.ID)
	}
	ctx, cancel := context.WithTimeout(f.Ctx, hangGuard)
	defer cancel()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, inv := range invoices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.Service.PostPayment(ctx, billing.PaymentParams{AccountID: inv.AccountID, Amount: USD(1000), By: User})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "payment %d", i)
	}
	for _, inv := range invoices {
		got, err := f.Service.GetInvoice(f.Ctx, inv.ID)
		require.NoError(t, err)
		assert.Equal(t, billing.InvoiceBalanced, got.Status, "invoice %s", inv.ID)
		assert.Zero(t, got.Balance.Amount, "balance of invoice %s", inv.ID)
		f.CheckLedger(t, inv.AccountID)
	}
}

// testPaymentsOnOneAccount posts 16 payments of 15.00 at once, without
// allocations, to an account that owes 50.00 on each of two invoices.
// The account's row lock orders them, so exactly six fit, one of them
// split over both invoices, and the other ten fail with ErrOverpayment.
func testPaymentsOnOneAccount(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	f.Item(t, "A", 5000, 0)
	acct := f.Account(t, "p1")
	f.Charge(t, acct.ID, "A", 1)
	first := f.Issued(t, acct.ID)
	f.Clock.Advance(time.Minute)
	f.Charge(t, acct.ID, "A", 1)
	second := f.Issued(t, acct.ID)

	ctx, cancel := context.WithTimeout(f.Ctx, hangGuard)
	defer cancel()
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.Service.PostPayment(ctx, billing.PaymentParams{AccountID: acct.ID, Amount: USD(1500), By: User})
		}()
	}
	wg.Wait()
	succeeded := 0
	for i, err := range errs {
		if err == nil {
			succeeded++
			continue
		}
		assert.ErrorIs(t, err, billing.ErrOverpayment, "payment %d", i)
	}
	assert.Equal(t, 6, succeeded, "six payments of 15.00 fit a balance of 100.00")

	payments, err := f.Service.ListPayments(f.Ctx, billing.PaymentFilter{AccountID: acct.ID})
	require.NoError(t, err)
	assert.Len(t, payments, 6)
	split := 0
	for _, p := range payments {
		if len(p.Allocations) == 2 {
			split++
		}
	}
	assert.Equal(t, 1, split, "one payment takes the last 5.00 of the first invoice and 10.00 of the second")
	got, err := f.Service.GetInvoice(f.Ctx, first.ID)
	require.NoError(t, err)
	assert.Equal(t, billing.InvoiceBalanced, got.Status)
	got, err = f.Service.GetInvoice(f.Ctx, second.ID)
	require.NoError(t, err)
	assert.Equal(t, billing.InvoiceIssued, got.Status)
	assert.Equal(t, int64(1000), got.Balance.Amount)
	f.CheckLedger(t, acct.ID)
}

// testPaymentsAndAdjustments posts payments and adjustments to one
// invoice at once. Together they fit the balance, so each must succeed
// in whatever order the locks let them run.
func testPaymentsAndAdjustments(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	f.Item(t, "A", 10000, 0)
	acct := f.Account(t, "p1")
	f.Charge(t, acct.ID, "A", 1)
	inv := f.Issued(t, acct.ID)

	ctx, cancel := context.WithTimeout(f.Ctx, hangGuard)
	defer cancel()
	const n = 8
	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, errs[i] = f.Service.PostPayment(ctx, billing.PaymentParams{
				AccountID: acct.ID, Amount: USD(500), Allocations: []billing.Allocation{{InvoiceID: inv.ID, Amount: USD(500)}}, By: User,
			})
		}()
		go func() {
			defer wg.Done()
			errs[n+i] = f.Service.Adjust(ctx, billing.AdjustParams{
				InvoiceID: inv.ID, Amount: USD(500), Kind: billing.EntryAdjustment, Reason: "contract", By: User,
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "posting %d", i)
	}
	got, err := f.Service.GetInvoice(f.Ctx, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(2000), got.Balance.Amount, "100.00 less eight payments and eight adjustments of 5.00")
	f.CheckLedger(t, acct.ID)
}

// testLedgerGuards posts entries through Tx.Post directly, bypassing the
// service's checks. The store must reject each entry in a wrong
// currency or naming a missing invoice or another account's invoice.
// It must do so whether the entry raises a balance or lowers it.
func testLedgerGuards(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	f.Item(t, "A", 1000, 0)
	acct := f.Account(t, "p1")
	f.Charge(t, acct.ID, "A", 1)
	inv := f.Issued(t, acct.ID)
	other := f.Account(t, "p2")
	before, err := f.Store.ListEntries(f.Ctx, billing.EntryFilter{})
	require.NoError(t, err)

	entry := func(debit, credit billing.Book, amount billing.Money, accountID, invoiceID string) billing.Entry {
		return billing.Entry{
			JournalID: "direct", Kind: billing.EntryAdjustment, Debit: debit, Credit: credit, Amount: amount,
			AccountID: accountID, InvoiceID: invoiceID, Posted: Start, PostedBy: User, Memo: "direct post",
		}
	}
	eur := billing.NewMoney(500, "EUR")
	cases := []struct {
		name  string
		entry billing.Entry
		want  error
	}{
		{"EUR raise of a USD invoice", entry(billing.BookReceivable, billing.BookRevenue, eur, acct.ID, inv.ID), billing.ErrCurrencyMismatch},
		{"EUR lowering of a USD invoice", entry(billing.BookUnapplied, billing.BookReceivable, eur, acct.ID, inv.ID), billing.ErrCurrencyMismatch},
		{"EUR credit on a USD account", entry(billing.BookCash, billing.BookUnapplied, eur, acct.ID, ""), billing.ErrCurrencyMismatch},
		{"unknown currency", entry(billing.BookCash, billing.BookRevenue, billing.NewMoney(700, "ZZZ"), acct.ID, ""), billing.ErrCurrencyMismatch},
		{"invoice of another account", entry(billing.BookReceivable, billing.BookRevenue, USD(700), other.ID, inv.ID), billing.ErrInvalid},
		{"missing invoice", entry(billing.BookReceivable, billing.BookRevenue, USD(700), acct.ID, "no-such-invoice"), billing.ErrNotFound},
		{"missing invoice on a non-receivable book", entry(billing.BookCash, billing.BookRevenue, USD(700), acct.ID, "no-such-invoice"), billing.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := f.Store.InTx(f.Ctx, func(ctx context.Context, tx billing.Tx) error {
				return tx.Post(ctx, []billing.Entry{tc.entry})
			})
			require.ErrorIs(t, err, tc.want)
			if !errors.Is(tc.want, billing.ErrCurrencyMismatch) {
				assert.NotErrorIs(t, err, billing.ErrCurrencyMismatch)
			}
		})
	}

	t.Run("currency code format", func(t *testing.T) {
		err := f.Store.InTx(f.Ctx, func(ctx context.Context, tx billing.Tx) error {
			return tx.PutAccount(ctx, billing.Account{ID: "lower", PatientID: "p3", Currency: "usd",
				Status: billing.AccountActive, Version: 1, Created: Start, Updated: Start, UpdatedBy: User})
		})
		assert.ErrorIs(t, err, billing.ErrInvalid, "a currency code is three upper-case letters")
		err = f.Store.InTx(f.Ctx, func(ctx context.Context, tx billing.Tx) error {
			return tx.InsertPayment(ctx, billing.Payment{ID: "digits", Kind: billing.PaymentReceived, AccountID: acct.ID,
				Amount: billing.NewMoney(100, "U5D"), Unapplied: billing.NewMoney(0, "U5D"), Received: Start, Posted: Start, PostedBy: User})
		})
		assert.ErrorIs(t, err, billing.ErrInvalid, "a currency code has no digits")
	})

	after, err := f.Store.ListEntries(f.Ctx, billing.EntryFilter{})
	require.NoError(t, err)
	assert.Len(t, after, len(before), "no rejected entry was stored")
	got, err := f.Service.GetInvoice(f.Ctx, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, USD(1000), got.Balance)
	require.NoError(t, f.Store.InTx(f.Ctx, func(ctx context.Context, tx billing.Tx) error {
		credit, err := tx.AccountCredit(ctx, acct.ID, "USD")
		assert.Zero(t, credit.Amount, "account credit")
		return err
	}))
	f.CheckLedger(t, acct.ID)
}

// testCurrencyCodes sends amounts in a code that is not ISO 4217 to each
// service method that takes money, and expects ErrInvalid that names the
// code rather than a currency mismatch with the account.
func testCurrencyCodes(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	f.Item(t, "A", 1000, 0)
	acct := f.Account(t, "p1")
	f.Charge(t, acct.ID, "A", 1)
	inv := f.Issued(t, acct.ID)
	zzz := billing.NewMoney(100, "ZZZ")

	_, err := f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: acct.ID, Amount: zzz, By: User})
	checkUnknownCurrency(t, err, "post payment")
	_, err = f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: acct.ID, Amount: USD(100), By: User,
		Allocations: []billing.Allocation{{InvoiceID: inv.ID, Amount: zzz}}})
	checkUnknownCurrency(t, err, "allocation")
	err = f.Service.ApplyCredit(f.Ctx, billing.ApplyCreditParams{AccountID: acct.ID, InvoiceID: inv.ID, Amount: zzz, By: User})
	checkUnknownCurrency(t, err, "apply credit")
	_, err = f.Service.Refund(f.Ctx, billing.RefundParams{AccountID: acct.ID, Amount: zzz, By: User})
	checkUnknownCurrency(t, err, "refund")
	err = f.Service.Adjust(f.Ctx, billing.AdjustParams{InvoiceID: inv.ID, Amount: zzz, Kind: billing.EntryAdjustment, Reason: "r", By: User})
	checkUnknownCurrency(t, err, "adjust")
	f.CheckLedger(t, acct.ID)
}

func checkUnknownCurrency(t *testing.T, err error, op string) {
	t.Helper()
	require.ErrorIs(t, err, billing.ErrInvalid, op)
	assert.NotErrorIs(t, err, billing.ErrCurrencyMismatch, op)
	assert.ErrorContains(t, err, `"ZZZ"`, op)
}
