package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
	billsql "github.com/nexus-health-360/nexus/billing/sqlstore"
	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/scheduling"
	schedsql "github.com/nexus-health-360/nexus/scheduling/sqlstore"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// billingStack is a clinical record, scheduling and billing on one
// SQLite database, wired as serve wires them.
type billingStack struct {
	svc   *emr.Service
	sched *scheduling.Service
	bill  *billing.Service
}

func newBillingStack(t *testing.T) *billingStack {
	t.Helper()
	ctx := context.Background()
	db := storagetest.SQLite(t)
	require.NoError(t, db.Migrate(ctx, sqlstore.Migrations(), schedsql.Migrations(), billsql.Migrations()))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	require.NoError(t, err)
	sched, err := openScheduling(db, "UTC", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	bill, err := openBilling(db, svc, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return &billingStack{svc: svc, sched: sched, bill: bill}
}

func (s *billingStack) patient(t *testing.T) string {
	t.Helper()
	res, err := s.svc.Create(context.Background(), "Patient", []byte(`{"resourceType":"Patient","active":true}`))
	require.NoError(t, err)
	return res.ID
}

func TestDemoBillingPaysClaim(t *testing.T) {
	s := newBillingStack(t)
	ctx := context.Background()
	ids := []string{s.patient(t), s.patient(t), s.patient(t)}
	sum, err := loadDemoBilling(ctx, s.bill, s.svc, ids)
	require.NoError(t, err)
	assert.Equal(t, 6, sum.items)
	assert.Equal(t, 3, sum.invoices)
	assert.Equal(t, billing.ClaimPaid, sum.claimStatus)

	claims, err := s.bill.ListClaims(ctx, billing.ClaimFilter{})
	require.NoError(t, err)
	require.Len(t, claims, 1)
	claim := claims[0]
	assert.Equal(t, claim.Total, mustAdd(t, claim.Paid, claim.Adjusted, claim.PatientResponsibility), "the remittance settles the claim")

	record, err := s.svc.Read(ctx, "Claim", claim.RecordID)
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, json.Unmarshal(record.Body, &body))
	assert.Equal(t, "Patient/"+ids[1], at(body, "patient", "reference"))
	assert.Equal(t, claimSystem, at(body, "identifier", 0, "system"))

	acct, err := s.bill.GetAccount(ctx, claim.AccountID)
	require.NoError(t, err)
	again, err := (&claimRecorder{svc: s.svc}).RecordClaim(ctx, claim, *acct)
	require.NoError(t, err)
	assert.Equal(t, claim.RecordID, again, "writing a claim again finds the first Claim")
	found, err := s.svc.Search(ctx, "Claim", url.Values{"identifier": {claimSystem + "|" + claim.ID}})
	require.NoError(t, err)
	assert.Len(t, found.Resources, 1)

	balances := map[billing.InvoiceStatus]int{}
	invoices, err := s.bill.ListInvoices(ctx, billing.InvoiceFilter{})
	require.NoError(t, err)
	for _, inv := range invoices {
		balances[inv.Status]++
	}
	assert.Equal(t, map[billing.InvoiceStatus]int{billing.InvoiceBalanced: 2, billing.InvoiceIssued: 1}, balances)
}

func TestFulfilledAppointmentCapturedOnce(t *testing.T) {
	s := newBillingStack(t)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	_, err := s.bill.PutChargeDefinition(ctx, billing.PutChargeDefinitionParams{By: "admin", Definition: billing.ChargeDefinition{
		Code: "consult-20", Active: true, Prices: []billing.Price{{UnitPrice: billing.NewMoney(11000, "USD")}},
	}})
	require.NoError(t, err)
	require.NoError(t, s.sched.PutAppointmentType(ctx, scheduling.AppointmentType{Code: "consult-20", Duration: 20 * time.Minute}))
	require.NoError(t, s.sched.PutAppointmentType(ctx, scheduling.AppointmentType{Code: "free-check", Duration: 20 * time.Minute}))
	doctor := scheduling.Actor{Kind: scheduling.Practitioner, ID: "dr-1"}
	sc, err := s.sched.CreateSchedule(ctx, scheduling.CreateScheduleParams{Actor: doctor, Name: "dr-1"})
	require.NoError(t, err)
	start := time.Now().UTC().Add(48 * time.Hour).Truncate(24 * time.Hour)
	_, err = s.sched.AddAvailability(ctx, scheduling.Availability{
		ScheduleID: sc.ID, Kind: scheduling.Weekly, Weekday: start.Weekday(),
		StartTime: scheduling.Clock(9, 0), EndTime: scheduling.Clock(12, 0),
	})
	require.NoError(t, err)
	patient := s.patient(t)
	for i, code := range []string{"consult-20", "free-check"} {
		a, err := s.sched.Book(ctx, scheduling.BookParams{
			PatientID: patient, AppointmentType: code, Actors: []scheduling.Actor{doctor},
			Start: start.Add(9*time.Hour + time.Duration(i)*20*time.Minute),
		})
		require.NoError(t, err)
		_, err = s.sched.Arrive(ctx, a.ID)
		require.NoError(t, err)
		_, err = s.sched.Fulfil(ctx, a.ID)
		require.NoError(t, err)
	}

	src := appointmentCharges{sched: s.sched}
	position, err := captureAppointments(ctx, s.bill, src, 0, log)
	require.NoError(t, err)
	assert.Positive(t, position)
	charges, err := s.bill.ListCharges(ctx, billing.ChargeFilter{})
	require.NoError(t, err)
	require.Len(t, charges, 1, "the free-check type has no price and is skipped")
	assert.Equal(t, "consult-20", charges[0].Code)
	assert.Equal(t, schedulingSource, charges[0].Source)

	_, err = captureAppointments(ctx, s.bill, src, 0, log)
	require.NoError(t, err)
	charges, err = s.bill.ListCharges(ctx, billing.ChargeFilter{})
	require.NoError(t, err)
	assert.Len(t, charges, 1, "a replay from the start bills nothing twice")

	stored, err := s.bill.SourcePosition(ctx, schedulingSource)
	require.NoError(t, err)
	assert.Equal(t, position, stored, "billing stores the position of the skipped last event too")
	counting := &countingSource{src: src}
	require.NoError(t, captureStored(ctx, s.bill, counting, log))
	assert.Equal(t, []int64{stored}, counting.after, "a restarted pass resumes from the stored position")
}

// countingSource records the position of each read of its source.
type countingSource struct {
	src   billing.ChargeSource
	after []int64
}

func (c *countingSource) BillableEvents(ctx context.Context, after int64, limit int) ([]billing.SourceEvent, error) {
	c.after = append(c.after, after)
	return c.src.BillableEvents(ctx, after, limit)
}

func mustAdd(t *testing.T, amounts ...billing.Money) billing.Money {
	t.Helper()
	sum := billing.Money{Currency: amounts[0].Currency}
	for _, m := range amounts {
		var err error
		sum, err = sum.Add(m)
		require.NoError(t, err)
	}
	return sum
}

// at walks a decoded JSON tree by object keys and array indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			list, _ := v.([]any)
			if k >= len(list) {
				return nil
			}
			v = list[k]
		}
	}
	return v
}

func TestBillingCommands(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "b.db")
	require.NoError(t, newApp().Run([]string{"nexusd", "migrate", "--db", dsn}))
	db, svc, err := openServiceKeys(ctx, dsn, emr.Config{Logger: slog.New(slog.DiscardHandler)}, dataKeys{})
	require.NoError(t, err)
	bill, err := openBilling(db, svc, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	pat, err := svc.Create(ctx, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Doe","given":["Jane"]}],
		"gender":"female","birthDate":"1980-01-15","address":[{"line":["2 Oak Ave"],"city":"Springfield","state":"IL","postalCode":"62702"}]}`))
	require.NoError(t, err)
	_, err = bill.PutChargeDefinition(ctx, billing.PutChargeDefinitionParams{By: "admin", Definition: billing.ChargeDefinition{
		Code: "99213", System: billing.SystemCPT, Active: true, Prices: []billing.Price{{UnitPrice: billing.NewMoney(12000, "USD")}},
	}})
	require.NoError(t, err)
	acct, err := bill.OpenAccount(ctx, billing.OpenAccountParams{PatientID: pat.ID, By: "clerk",
		Coverages: []billing.Coverage{{PayerID: "ACME01", MemberID: "M100", Order: 1}}})
	require.NoError(t, err)
	_, err = bill.AddManualCharge(ctx, billing.ManualChargeParams{AccountID: acct.ID, Code: "99213", Reason: "visit", By: "clerk"})
	require.NoError(t, err)
	inv, err := bill.DraftInvoice(ctx, billing.DraftInvoiceParams{AccountID: acct.ID, Issue: true, By: "clerk"})
	require.NoError(t, err)
	claim, err := bill.BuildClaim(ctx, billing.BuildClaimParams{InvoiceID: inv.ID, Diagnoses: []string{"I10"}, By: "clerk"})
	require.NoError(t, err)
	_, err = bill.SubmitClaim(ctx, claim.ID, "clerk")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	var out bytes.Buffer
	app := newApp()
	app.Writer = &out
	require.NoError(t, app.Run([]string{"nexusd", "billing", "export-837p", "--db", dsn, "--sender", "NEXUS", "--receiver", "ACME01",
		"--receiver-name", "Acme", "--payer-name", "Acme", "--provider-name", "Nexus Clinic", "--provider-npi", "1234567893",
		"--provider-tax-id", "123456789", "--contact", "Billing Office,5551234567", claim.ID}))
	text := out.String()
	assert.True(t, strings.HasPrefix(text, "ISA*00*"), "%s", text)
	assert.Contains(t, text, "~NM1*IL*1*DOE*JANE****MI*M100~N3*2 OAK AVE~N4*SPRINGFIELD*IL*62702~DMG*D8*19800115*F~")
	assert.Contains(t, text, "~CLM*"+claim.ID+"*120***11:B:1*Y*A*Y*Y~HI*ABK:I10~")
	assert.Contains(t, text, "~PER*IC*BILLING OFFICE*TE*5551234567~")

	remit := filepath.Join(t.TempDir(), "r.835")
	require.NoError(t, os.WriteFile(remit, []byte(strings.Join([]string{
		"ISA*00*          *00*          *ZZ*ACME01         *ZZ*NEXUS          *250310*1200*^*00501*000000002*0*T*:",
		"GS*HP*ACME01*NEXUS*20250310*1200*2*X*005010X221A1", "ST*835*0001", "TRN*1*EFT7*1512345678",
		"CLP*" + claim.ID + "*1*120*90*10*12*P1", "SVC*HC:99213*120*90**1", "CAS*CO*45*20", "CAS*PR*3*10", "REF*6R*1",
		"SE*8*0001", "GE*1*2", "IEA*1*000000002",
	}, "~")+"~"), 0o600))
	out.Reset()
	app = newApp()
	app.Writer = &out
	require.NoError(t, app.Run([]string{"nexusd", "billing", "post-835", "--db", dsn, remit}))
	assert.Equal(t, "claim "+claim.ID+": paid, paid 90.00 USD, adjusted 20.00 USD, patient 10.00 USD\n1 claim payments posted\n", out.String())
	out.Reset()
	app = newApp()
	app.Writer = &out
	err = app.Run([]string{"nexusd", "billing", "post-835", "--db", dsn, remit})
	assert.ErrorIs(t, err, billing.ErrDuplicateRemittance, "a second post of the file")
	assert.Empty(t, out.String())
}
