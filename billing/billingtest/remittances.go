package billingtest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

// Remittance835 is an 835 interchange with one payment of payer
// 1512345678 under trace number reference, for one claim with lines of
// the given sequences. Each line is paid paid[i], and claimCAS, when not
// empty, is a claim-level CAS segment such as "CAS*CO*45*5".
func Remittance835(reference, claimID string, paid []string, claimCAS string) string {
	segments := []string{
		"ISA*00*          *00*          *ZZ*ACME01         *ZZ*NEXUS          *250310*1200*^*00501*000000002*0*T*:",
		"GS*HP*ACME01*NEXUS*20250310*1200*2*X*005010X221A1",
		"ST*835*0001",
		"BPR*I*0*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20250310",
		"TRN*1*" + reference + "*1512345678",
		"CLP*" + claimID + "*1*0*0**12*PAYERCLAIM1",
	}
	if claimCAS != "" {
		segments = append(segments, claimCAS)
	}
	for i, amount := range paid {
		segments = append(segments, "SVC*HC:A*0*"+amount+"**1", fmt.Sprintf("REF*6R*%d", i+1))
	}
	segments = append(segments, "SE*9*0001", "GE*1*2", "IEA*1*000000002")
	return strings.Join(segments, "~\n") + "~\n"
}

// submittedClaim issues an invoice of two 100.00 USD lines and submits
// its claim to payer acme.
func submittedClaim(t *testing.T, f *Fixture, patient string) (*billing.Claim, *billing.Invoice) {
	t.Helper()
	acct := f.Account(t, patient, billing.Coverage{PayerID: "acme", MemberID: "M1", Order: 1})
	f.Charge(t, acct.ID, "A", 1)
	f.Charge(t, acct.ID, "A", 1)
	inv := f.Issued(t, acct.ID)
	c, err := f.Service.BuildClaim(f.Ctx, billing.BuildClaimParams{InvoiceID: inv.ID, Diagnoses: []string{"I10"}, By: User})
	require.NoError(t, err)
	c, err = f.Service.SubmitClaim(f.Ctx, c.ID, User)
	require.NoError(t, err)
	return c, inv
}

func testRemittances(t *testing.T, newStore NewStore) {
	t.Run("concurrent posts of one file", func(t *testing.T) {
		f := NewFixture(t, newStore(t), billing.Config{})
		f.Item(t, "A", 10000, 0)
		c, _ := submittedClaim(t, f, "p1")
		// A partial payment leaves the claim open for more remittances,
		// so only the advice key stops a second post.
		text := Remittance835("EFT1", c.ID, []string{"30", "20"}, "")
		const n = 6
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.Service.Post835(f.Ctx, strings.NewReader(text), User)
			}()
		}
		wg.Wait()
		succeeded := 0
		for i, err := range errs {
			if err == nil {
				succeeded++
				continue
			}
			assert.ErrorIs(t, err, billing.ErrDuplicateRemittance, "post %d", i)
			assert.ErrorIs(t, err, billing.ErrConflict, "post %d", i)
		}
		assert.Equal(t, 1, succeeded, "exactly one post succeeds")
		pays, err := f.Service.ListPayments(f.Ctx, billing.PaymentFilter{ClaimID: c.ID})
		require.NoError(t, err)
		assert.Len(t, pays, 1)
		got, err := f.Service.GetClaim(f.Ctx, c.ID)
		require.NoError(t, err)
		assert.Equal(t, USD(5000), got.Paid)
		assert.Equal(t, billing.ClaimPartiallyPaid, got.Status)

		_, err = f.Service.Post835(f.Ctx, strings.NewReader(text), User)
		assert.ErrorIs(t, err, billing.ErrDuplicateRemittance, "a later post of the same file")
		posted, err := f.Service.Post835(f.Ctx, strings.NewReader(Remittance835("EFT2", c.ID, []string{"70", "80"}, "")), User)
		require.NoError(t, err, "another payment of the same claim")
		require.Len(t, posted, 1)
		assert.Equal(t, billing.ClaimPaid, posted[0].Status)
		f.CheckLedger(t, c.AccountID)
	})

	t.Run("claim response imported once", func(t *testing.T) {
		rec := &recorder{responses: map[string]billing.Remittance{}}
		f := NewFixture(t, newStore(t), billing.Config{Recorder: rec})
		f.Item(t, "A", 10000, 0)
		c, _ := submittedClaim(t, f, "p1")
		rec.responses["cr1"] = billing.Remittance{ClaimID: c.ID, Outcome: "partial", Reference: "EFT1", Lines: []billing.RemittanceLine{
			{Sequence: 1, Paid: USD(4000)},
		}}
		got, err := f.Service.ImportClaimResponse(f.Ctx, "cr1", User)
		require.NoError(t, err)
		assert.Equal(t, billing.ClaimPartiallyPaid, got.Status)
		_, err = f.Service.ImportClaimResponse(f.Ctx, "cr1", User)
		assert.ErrorIs(t, err, billing.ErrDuplicateRemittance, "a second import of the same response")
		pays, err := f.Service.ListPayments(f.Ctx, billing.PaymentFilter{ClaimID: c.ID})
		require.NoError(t, err)
		assert.Len(t, pays, 1)
	})

	t.Run("claim-level adjustments", func(t *testing.T) {
		f := NewFixture(t, newStore(t), billing.Config{})
		f.Item(t, "A", 10000, 0)
		c, inv := submittedClaim(t, f, "p1")
		posted, err := f.Service.Post835(f.Ctx, strings.NewReader(Remittance835("EFT1", c.ID, []string{"80", "80"}, "CAS*CO*45*25~CAS*OA*23*5~CAS*PR*1*10")), User)
		require.NoError(t, err)
		require.Len(t, posted, 1)
		assert.Equal(t, USD(16000), posted[0].Paid)
		assert.Equal(t, USD(3000), posted[0].Adjusted, "CO and OA at claim level")
		assert.Equal(t, USD(1000), posted[0].PatientResponsibility, "PR at claim level")
		assert.Equal(t, billing.ClaimPaid, posted[0].Status)
		got, err := f.Service.GetInvoice(f.Ctx, inv.ID)
		require.NoError(t, err)
		assert.Equal(t, USD(1000), got.Balance, "the ledger took the claim-level adjustment off the invoice")
		entries, err := f.Store.ListEntries(f.Ctx, billing.EntryFilter{InvoiceID: inv.ID})
		require.NoError(t, err)
		var adjusted int64
		for _, e := range entries {
			if e.Kind == billing.EntryAdjustment {
				adjusted += e.Amount.Amount
			}
		}
		assert.Equal(t, int64(3000), adjusted)
		f.CheckLedger(t, c.AccountID)

		c2, _ := submittedClaim(t, f, "p2")
		_, err = f.Service.Post835(f.Ctx, strings.NewReader(Remittance835("EFT2", c2.ID, []string{"100", "90"}, "CAS*CO*45*20")), User)
		assert.ErrorIs(t, err, billing.ErrOverpayment, "claim-level amounts count against the claim total")
		pays, err := f.Service.ListPayments(f.Ctx, billing.PaymentFilter{ClaimID: c2.ID})
		require.NoError(t, err)
		assert.Empty(t, pays, "a rejected advice posts nothing")
		_, err = f.Service.Post835(f.Ctx, strings.NewReader(Remittance835("EFT2", c2.ID, []string{"100", "90"}, "CAS*CO*45*10")), User)
		assert.NoError(t, err, "a failed post does not keep the advice key")
	})
}
