package billingtest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

func testConcurrency(t *testing.T, newStore NewStore) {
	t.Run("issue numbers", func(t *testing.T) {
		f := NewFixture(t, newStore(t), billing.Config{})
		f.Item(t, "A", 1000, 0)
		const n = 50
		drafts := make([]string, n)
		for i := range n {
			acct := f.Account(t, fmt.Sprintf("p%d", i))
			f.Charge(t, acct.ID, "A", 1)
			d, err := f.Service.DraftInvoice(f.Ctx, billing.DraftInvoiceParams{AccountID: acct.ID, By: User})
			require.NoError(t, err)
			drafts[i] = d.ID
		}
		numbers := make([]int64, n)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				inv, err := f.Service.IssueInvoice(f.Ctx, drafts[i], User)
				errs[i] = err
				if err == nil {
					numbers[i] = inv.Number
				}
			}()
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "issue %d", i)
		}
		slices.Sort(numbers)
		for i, num := range numbers {
			assert.Equal(t, int64(i+1), num, "numbers are 1..50 with no gap or repeat")
		}
	})

	t.Run("payments never overpay", func(t *testing.T) {
		f := NewFixture(t, newStore(t), billing.Config{})
		f.Item(t, "A", 10000, 0)
		acct := f.Account(t, "p1")
		f.Charge(t, acct.ID, "A", 1)
		inv := f.Issued(t, acct.ID)
		const n = 20
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, over := 0, 0
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.Service.PostPayment(f.Ctx, billing.PaymentParams{
					AccountID: acct.ID, Amount: USD(3000), Allocations: []billing.Allocation{{InvoiceID: inv.ID, Amount: USD(3000)}}, By: User,
				})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, billing.ErrOverpayment), errors.Is(err, billing.ErrConflict):
					over++
				default:
					t.Errorf("payment: %v", err)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, 3, ok, "three payments of 30.00 fit a balance of 100.00")
		assert.Equal(t, n-3, over)
		got, err := f.Service.GetInvoice(f.Ctx, inv.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(1000), got.Balance.Amount)
		f.CheckLedger(t, acct.ID)
	})

	t.Run("mixed postings keep the ledger", func(t *testing.T) {
		f := NewFixture(t, newStore(t), billing.Config{})
		f.Item(t, "A", 777, 190000)
		acct := f.Account(t, "p1")
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.Service.AddManualCharge(f.Ctx, billing.ManualChargeParams{AccountID: acct.ID, Code: "A", Quantity: int64(i + 1), Reason: "r", By: User}); err != nil {
					t.Errorf("charge: %v", err)
					return
				}
				d, err := f.Service.DraftInvoice(f.Ctx, billing.DraftInvoiceParams{AccountID: acct.ID, By: User})
				if errors.Is(err, billing.ErrInvalid) {
					return // another worker took the open charges
				}
				if err != nil {
					t.Errorf("draft: %v", err)
					return
				}
				if _, err := f.Service.IssueInvoice(f.Ctx, d.ID, User); err != nil {
					t.Errorf("issue: %v", err)
				}
				_, err = f.Service.PostPayment(f.Ctx, billing.PaymentParams{AccountID: acct.ID, Amount: USD(500), AllowCredit: true, By: User})
				if err != nil {
					t.Errorf("payment: %v", err)
				}
			}()
		}
		wg.Wait()
		f.CheckLedger(t, acct.ID)
		entries, err := f.Store.ListEntries(f.Ctx, billing.EntryFilter{AccountID: acct.ID})
		require.NoError(t, err)
		var cashIn int64
		for _, e := range entries {
			if e.Debit == billing.BookCash {
				cashIn += e.Amount.Amount
			}
		}
		payments, err := f.Service.ListPayments(f.Ctx, billing.PaymentFilter{AccountID: acct.ID})
		require.NoError(t, err)
		assert.Equal(t, int64(500*len(payments)), cashIn, "cash equals the payments posted")
	})

	t.Run("replayed capture", func(t *testing.T) {
		f := NewFixture(t, newStore(t), billing.Config{})
		f.Item(t, "A", 1000, 0)
		ev := billing.SourceEvent{Source: "scheduling", EventID: "appointment/a1/fulfilled", PatientID: "p1", Code: "A"}
		var wg sync.WaitGroup
		ids := make([]string, 8)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, _, err := f.Service.Capture(f.Ctx, ev)
				if err != nil {
					t.Errorf("capture: %v", err)
					return
				}
				ids[i] = c.ID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			assert.Equal(t, ids[0], id, "every replay returns the one charge")
		}
		accounts, err := f.Service.ListAccounts(f.Ctx, billing.AccountFilter{PatientID: "p1"})
		require.NoError(t, err)
		require.Len(t, accounts, 1)
		charges, err := f.Service.ListCharges(f.Ctx, billing.ChargeFilter{AccountID: accounts[0].ID})
		require.NoError(t, err)
		assert.Len(t, charges, 1)
	})
}
