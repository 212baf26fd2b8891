package billing_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/billing/billingtest"
	"github.com/nexus-health-360/nexus/billing/sqlstore"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// sample835 is a payment of claim id for two lines of 21.76 USD, listed
// with line 2 first. Line 2 is paid 16.00 and line 1 15.00. Each line has
// a 3.00 copay (group PR), and the rest is a contractual adjustment (CO),
// which line 1 splits over two reason codes in one CAS.
func sample835(id string) string {
	return strings.Join([]string{
		"ISA*00*          *00*          *ZZ*ACME01         *ZZ*NEXUS          *250310*1200*^*00501*000000002*0*T*:",
		"GS*HP*ACME01*NEXUS*20250310*1200*2*X*005010X221A1",
		"ST*835*0001",
		"BPR*I*31*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20250310",
		"TRN*1*EFT0042*1512345678",
		"N1*PR*ACME HEALTH",
		"N1*PE*NEXUS CLINIC*XX*1234567893",
		"LX*1",
		"CLP*" + id + "*1*43.52*31*6*12*PAYERCLAIM1",
		"NM1*QC*1*DOE*JANE",
		"SVC*HC:A*21.76*16**1",
		"DTM*472*20250303",
		"CAS*CO*45*2.76",
		"CAS*PR*3*3",
		"REF*6R*2",
		"SVC*HC:A*21.76*15**1",
		"DTM*472*20250303",
		"CAS*CO*45*3*1*253*0.76",
		"CAS*PR*3*3",
		"REF*6R*1",
		"SE*19*0001",
		"GE*1*2",
		"IEA*1*000000002",
	}, "~\n") + "~\n"
}

func TestRead835Lines(t *testing.T) {
	rems, err := billing.Read835(strings.NewReader(sample835("CLM1")), "USD")
	require.NoError(t, err)
	require.Len(t, rems, 1)
	r := rems[0]
	assert.Equal(t, "CLM1", r.ClaimID)
	assert.Equal(t, "complete", r.Outcome)
	assert.Equal(t, "EFT0042", r.Reference)
	assert.Equal(t, "1512345678", r.PayerID)
	assert.Zero(t, r.Adjusted.Amount, "no claim-level CAS")
	assert.Equal(t, "2025-03-10", r.Received.Format("2006-01-02"))
	require.Len(t, r.Lines, 2)
	assert.Equal(t, billing.RemittanceLine{Sequence: 2, Paid: billingtest.USD(1600), Adjusted: billingtest.USD(276), PatientResponsibility: billingtest.USD(300)}, r.Lines[0])
	assert.Equal(t, billing.RemittanceLine{Sequence: 1, Paid: billingtest.USD(1500), Adjusted: billingtest.USD(376), PatientResponsibility: billingtest.USD(300)}, r.Lines[1])
}

func TestRead835ClaimAdjustments(t *testing.T) {
	text := strings.Replace(sample835("CLM1"), "NM1*QC*1*DOE*JANE", "CAS*CO*45*1.50*1*253*0.50~CAS*PR*2*4~NM1*QC*1*DOE*JANE", 1)
	rems, err := billing.Read835(strings.NewReader(text), "USD")
	require.NoError(t, err)
	require.Len(t, rems, 1)
	assert.Equal(t, billingtest.USD(200), rems[0].Adjusted, "the CAS triples after CLP and before SVC")
	assert.Equal(t, billingtest.USD(400), rems[0].PatientResponsibility)
	assert.Equal(t, billingtest.USD(276), rems[0].Lines[0].Adjusted, "line amounts stay on their lines")
}

func TestRead835Rejects(t *testing.T) {
	tests := map[string]string{
		"no ISA":          "GS*HP~",
		"not an 835":      strings.Replace(sample835("C"), "ST*835", "ST*837", 1),
		"too many digits": strings.Replace(sample835("C"), "SVC*HC:A*21.76*16**1", "SVC*HC:A*21.76*16.001**1", 1),
		"bad CAS group":   strings.Replace(sample835("C"), "CAS*CO*45*2.76", "CAS*XX*45*2.76", 1),
		"no claim id":     strings.Replace(sample835("C"), "CLP*C*", "CLP**", 1),
		"no TRN":          strings.Replace(sample835("C"), "TRN*1*EFT0042*1512345678~\n", "", 1),
		"no payer id":     strings.Replace(sample835("C"), "TRN*1*EFT0042*1512345678", "TRN*1*EFT0042", 1),
		"PLB":             strings.Replace(sample835("C"), "SE*19*0001", "PLB*1234567893*20251231*L6:INT1*-1.25~SE*20*0001", 1),
		"CAS before CLP":  strings.Replace(sample835("C"), "LX*1", "CAS*CO*45*1", 1),
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := billing.Read835(strings.NewReader(text), "USD")
			assert.ErrorIs(t, err, billing.ErrInvalid)
		})
	}
}

func TestPost835PaysClaimOnce(t *testing.T) {
	ctx := context.Background()
	db := storagetest.SQLite(t)
	require.NoError(t, db.Migrate(ctx, sqlstore.Migrations()))
	f := billingtest.NewFixture(t, sqlstore.New(db), billing.Config{})
	f.Item(t, "A", 1999, 88750)
	acct := f.Account(t, "p1", billing.Coverage{PayerID: "acme", MemberID: "M1", Order: 1})
	f.Charge(t, acct.ID, "A", 1)
	f.Charge(t, acct.ID, "A", 1)
	inv := f.Issued(t, acct.ID)
	require.Equal(t, int64(4352), inv.TotalGross.Amount)
	claim, err := f.Service.BuildClaim(ctx, billing.BuildClaimParams{InvoiceID: inv.ID, Diagnoses: []string{"E11.9"}, By: billingtest.User})
	require.NoError(t, err)
	_, err = f.Service.SubmitClaim(ctx, claim.ID, billingtest.User)
	require.NoError(t, err)

	posted, err := f.Service.Post835(ctx, strings.NewReader(sample835(claim.ID)), billingtest.User)
	require.NoError(t, err)
	require.Len(t, posted, 1)
	assert.Equal(t, billing.ClaimPaid, posted[0].Status)
	assert.Equal(t, billingtest.USD(3100), posted[0].Paid)
	assert.Equal(t, billingtest.USD(652), posted[0].Adjusted)
	assert.Equal(t, billingtest.USD(600), posted[0].PatientResponsibility)
	after, err := f.Service.GetInvoice(ctx, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, billingtest.USD(600), after.Balance, "the copays are left for the patient")

	again, err := f.Service.Post835(ctx, strings.NewReader(sample835(claim.ID)), billingtest.User)
	assert.ErrorIs(t, err, billing.ErrDuplicateRemittance, "the same payment is not posted twice")
	assert.Empty(t, again)
	pays, err := f.Service.ListPayments(ctx, billing.PaymentFilter{ClaimID: claim.ID})
	require.NoError(t, err)
	assert.Len(t, pays, 1)
	f.CheckLedger(t, acct.ID)

	other := strings.Replace(sample835("no-such-claim"), "EFT0042", "EFT0043", 1)
	_, err = f.Service.Post835(ctx, strings.NewReader(other), billingtest.User)
	assert.ErrorIs(t, err, billing.ErrNotFound)
}
