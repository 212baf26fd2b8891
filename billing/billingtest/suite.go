// Package billingtest is the conformance suite of billing.Store: every
// backend runs the same cases through a billing.Service and must give
// the same results, concurrency cases included. Outside backends can run
// it too:
//
//	func TestConformance(t *testing.T) {
//		billingtest.Run(t, func(t *testing.T) billing.Store { return newMyStore(t) })
//	}
package billingtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

// NewStore opens an empty, migrated store for one test.
type NewStore func(t *testing.T) billing.Store

// Run runs every area of the suite.
func Run(t *testing.T, newStore NewStore) {
	t.Run("chargemaster", func(t *testing.T) { testChargemaster(t, newStore) })
	t.Run("capture", func(t *testing.T) { testCapture(t, newStore) })
	t.Run("invoices", func(t *testing.T) { testInvoices(t, newStore) })
	t.Run("credit notes", func(t *testing.T) { testCreditNotes(t, newStore) })
	t.Run("payments", func(t *testing.T) { testPayments(t, newStore) })
	t.Run("bad input", func(t *testing.T) { testBadInput(t, newStore) })
	t.Run("claims", func(t *testing.T) { testClaims(t, newStore) })
	t.Run("remittances", func(t *testing.T) { testRemittances(t, newStore) })
	t.Run("identifiers", func(t *testing.T) { testIdentifiers(t, newStore) })
	t.Run("history", func(t *testing.T) { testHistory(t, newStore) })
	t.Run("kept elements", func(t *testing.T) { testKeptElements(t, newStore) })
	t.Run("concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
	t.Run("database guards", func(t *testing.T) { testDatabaseGuards(t, newStore) })
	t.Run("events", func(t *testing.T) { testEvents(t, newStore) })
	t.Run("concurrent payments", func(t *testing.T) { RunConcurrentPayments(t, newStore) })
	t.Run("ledger guards", func(t *testing.T) { testLedgerGuards(t, newStore) })
	t.Run("currency codes", func(t *testing.T) { testCurrencyCodes(t, newStore) })
}

// Start is the suite's initial clock reading.
var Start = time.Date(2025, time.March, 3, 9, 0, 0, 0, time.UTC)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the current reading.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Fixture is a service on a fresh store with a settable clock and
// sequential ids.
type Fixture struct {
	Service *billing.Service
	Store   billing.Store
	Clock   *Clock
	Ctx     context.Context
}

// User is the user the fixture's writes are made by.
const User = "Practitioner/clerk"

// NewFixture opens a store and a service on it, with cfg.Clock and
// cfg.NewID replaced.
func NewFixture(t testing.TB, store billing.Store, cfg billing.Config) *Fixture {
	t.Helper()
	clock := &Clock{t: Start}
	var n atomic.Int64
	cfg.Clock = clock.Now
	cfg.NewID = func() string { return fmt.Sprintf("id%06d", n.Add(1)) }
	svc, err := billing.NewService(store, cfg)
	require.NoError(t, err)
	return &Fixture{Service: svc, Store: store, Clock: clock, Ctx: context.Background()}
}

// USD returns cents in US dollars.
func USD(cents int64) billing.Money { return billing.Money{Amount: cents, Currency: "USD"} }

// Item stores a chargemaster item with a list price in USD and the
// given tax rate.
func (f *Fixture) Item(t testing.TB, code string, cents int64, tax billing.Rate, prices ...billing.Price) *billing.ChargeDefinition {
	t.Helper()
	all := append([]billing.Price{{UnitPrice: USD(cents)}}, prices...)
	d, err := f.Service.PutChargeDefinition(f.Ctx, billing.PutChargeDefinitionParams{
		Definition: billing.ChargeDefinition{Code: code, System: billing.SystemCPT, Display: "item " + code, TaxRate: tax, Prices: all, Active: true},
		By:         User,
	})
	require.NoError(t, err)
	return d
}

// Account opens an account in USD for patient.
func (f *Fixture) Account(t testing.TB, patient string, coverages ...billing.Coverage) *billing.Account {
	t.Helper()
	a, err := f.Service.OpenAccount(f.Ctx, billing.OpenAccountParams{
		PatientID: patient, Currency: "USD", Coverages: coverages, By: User,
		Guarantors: []billing.Guarantor{{Party: "Patient/" + patient}},
	})
	require.NoError(t, err)
	return a
}

// Charge enters a manual charge.
func (f *Fixture) Charge(t testing.TB, accountID, code string, quantity int64) *billing.Charge {
	t.Helper()
	c, err := f.Service.AddManualCharge(f.Ctx, billing.ManualChargeParams{
		AccountID: accountID, Code: code, Quantity: quantity, Reason: "entered at the desk", By: User,
	})
	require.NoError(t, err)
	return c
}

// Issued drafts and issues an invoice of every open charge.
func (f *Fixture) Issued(t testing.TB, accountID string) *billing.Invoice {
	t.Helper()
	d, err := f.Service.DraftInvoice(f.Ctx, billing.DraftInvoiceParams{AccountID: accountID, By: User})
	require.NoError(t, err)
	inv, err := f.Service.IssueInvoice(f.Ctx, d.ID, User)
	require.NoError(t, err)
	return inv
}

// CheckLedger asserts the ledger invariants of an account: every
// invoice's balance equals the sum of its receivable entries, and no
// balance is negative.
func (f *Fixture) CheckLedger(t testing.TB, accountID string) {
	t.Helper()
	entries, err := f.Store.ListEntries(f.Ctx, billing.EntryFilter{AccountID: accountID})
	require.NoError(t, err)
	receivable := map[string]int64{}
	for _, e := range entries {
		require.Positive(t, e.Amount.Amount, "entry %d amount", e.ID)
		require.NotEqual(t, e.Debit, e.Credit, "entry %d books", e.ID)
		if e.Debit == billing.BookReceivable {
			receivable[e.InvoiceID] += e.Amount.Amount
		}
		if e.Credit == billing.BookReceivable {
			receivable[e.InvoiceID] -= e.Amount.Amount
		}
	}
	invoices, err := f.Store.ListInvoices(f.Ctx, billing.InvoiceFilter{AccountID: accountID})
	require.NoError(t, err)
	for _, inv := range invoices {
		require.Equal(t, receivable[inv.ID], inv.Balance.Amount, "balance of invoice %s is the sum of its entries", inv.ID)
		require.GreaterOrEqual(t, inv.Balance.Amount, int64(0), "balance of invoice %s", inv.ID)
	}
}
