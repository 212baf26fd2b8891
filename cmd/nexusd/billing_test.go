package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
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
