package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/emr"
)

// demoFeeSchedule is the demo chargemaster. The two local codes are the
// demo appointment types, so fulfilled demo appointments are billed. The
// insurer Acme pays less than the list price for an office visit.
func demoFeeSchedule(payer string) []billing.ChargeDefinition {
	usd := func(cents int64) billing.Money { return billing.NewMoney(cents, "USD") }
	return []billing.ChargeDefinition{
		{Code: "99213", System: billing.SystemCPT, Display: "Office visit, established patient", Active: true,
			Prices: []billing.Price{{UnitPrice: usd(12000)}, {PayerID: payer, UnitPrice: usd(9500)}}},
		{Code: "36415", System: billing.SystemCPT, Display: "Venipuncture", Active: true,
			Prices: []billing.Price{{UnitPrice: usd(2050)}}},
		{Code: "85025", System: billing.SystemCPT, Display: "Complete blood count", Active: true,
			Prices: []billing.Price{{UnitPrice: usd(3500)}, {PayerID: payer, UnitPrice: usd(2800)}}},
		{Code: "E0114", System: billing.SystemHCPCS, Display: "Crutches, underarm, pair", Active: true, TaxRate: 88750,
			Prices: []billing.Price{{UnitPrice: usd(4999), Discount: 100000}}},
		{Code: "consult-20", System: billing.SystemLocal, Display: "Consultation, 20 minutes", Active: true,
			Prices: []billing.Price{{UnitPrice: usd(11000)}}},
		{Code: "followup-30", System: billing.SystemLocal, Display: "Follow-up, 30 minutes", Active: true,
			Prices: []billing.Price{{UnitPrice: usd(9000)}}},
	}
}

// demoBillingSummary counts what loadDemoBilling created.
type demoBillingSummary struct {
	items, invoices int
	claimStatus     billing.ClaimStatus
}

// loadDemoBilling adds the fee schedule and bills the first three
// patients: one pays an invoice at the desk, one has an insurance claim
// that the payer settles and whose copay the patient pays, and one still
// owes an issued invoice.
func loadDemoBilling(ctx context.Context, bill *billing.Service, svc *emr.Service, patientIDs []string) (*demoBillingSummary, error) {
	if len(patientIDs) < 3 {
		return nil, fmt.Errorf("demo billing needs 3 patients, the record has %d", len(patientIDs))
	}
	const by = "system/nexusd-demo"
	ctx = emr.ContextWithActor(ctx, by)
	payer, err := svc.Create(ctx, "Organization", []byte(`{"resourceType":"Organization","active":true,"name":"Acme Health Insurance"}`))
	if err != nil {
		return nil, fmt.Errorf("create the demo insurer: %w", err)
	}
	sum := &demoBillingSummary{}
	for _, d := range demoFeeSchedule(payer.ID) {
		if _, err := bill.PutChargeDefinition(ctx, billing.PutChargeDefinitionParams{Definition: d, By: by}); err != nil {
			return nil, err
		}
		sum.items++
	}
	visit := func(patient, code string) (*billing.Charge, error) {
		c, _, err := bill.Capture(ctx, billing.SourceEvent{
			Source: "demo", EventID: "visit/" + patient + "/" + code, PatientID: patient, Code: code,
			ServiceDate: time.Now().Add(-24 * time.Hour),
		})
		return c, err
	}
	issue := func(accountID string) (*billing.Invoice, error) {
		inv, err := bill.DraftInvoice(ctx, billing.DraftInvoiceParams{AccountID: accountID, Issue: true, By: by})
		if err == nil {
			sum.invoices++
		}
		return inv, err
	}

	// A self-pay visit with a blood count, paid by card.
	c, err := visit(patientIDs[0], "99213")
	if err != nil {
		return nil, err
	}
	if _, err := bill.AddManualCharge(ctx, billing.ManualChargeParams{AccountID: c.AccountID, Code: "85025", Reason: "ordered at the visit", By: by}); err != nil {
		return nil, err
	}
	inv, err := issue(c.AccountID)
	if err != nil {
		return nil, err
	}
	if _, err := bill.PostPayment(ctx, billing.PaymentParams{AccountID: inv.AccountID, Amount: inv.Balance, Payer: "patient", Method: "card", By: by}); err != nil {
		return nil, err
	}

	// An insured visit: the claim is submitted, settled by a
	// ClaimResponse in the clinical record, and the copay paid.
	if err := demoInsuredVisit(ctx, bill, svc, patientIDs[1], payer.ID, issue, sum); err != nil {
		return nil, err
	}

	// A visit with crutches, still owed.
	if c, err = visit(patientIDs[2], "99213"); err != nil {
		return nil, err
	}
	if _, err := bill.AddManualCharge(ctx, billing.ManualChargeParams{AccountID: c.AccountID, Code: "E0114", Reason: "dispensed at the visit", By: by}); err != nil {
		return nil, err
	}
	if _, err := issue(c.AccountID); err != nil {
		return nil, err
	}
	return sum, nil
}

func demoInsuredVisit(ctx context.Context, bill *billing.Service, svc *emr.Service, patient, payerID string,
	issue func(string) (*billing.Invoice, error), sum *demoBillingSummary) error {
	const by = "system/nexusd-demo"
	coverage, err := svc.Create(ctx, "Coverage", []byte(`{"resourceType":"Coverage","status":"active",
		"subscriberId":"ACME-1001","beneficiary":{"reference":"Patient/`+patient+`"},
		"payor":[{"reference":"Organization/`+payerID+`"}]}`))
	if err != nil {
		return fmt.Errorf("create the demo coverage: %w", err)
	}
	acct, err := bill.OpenAccount(ctx, billing.OpenAccountParams{
		PatientID: patient, By: by,
		Coverages: []billing.Coverage{{PayerID: payerID, MemberID: "ACME-1001", Order: 1, CoverageID: coverage.ID}},
	})
	if err != nil {
		return err
	}
	for _, code := range []string{"99213", "36415"} {
		if _, err := bill.AddManualCharge(ctx, billing.ManualChargeParams{AccountID: acct.ID, Code: code, Reason: "insured visit", By: by}); err != nil {
			return err
		}
	}
	inv, err := issue(acct.ID)
	if err != nil {
		return err
	}
	claim, err := bill.BuildClaim(ctx, billing.BuildClaimParams{InvoiceID: inv.ID, Diagnoses: []string{"E11.9", "I10"}, By: by})
	if err != nil {
		return err
	}
	if claim, err = bill.SubmitClaim(ctx, claim.ID, by); err != nil {
		return err
	}
	body, err := demoClaimResponse(claim, billing.Rate(800000), billing.NewMoney(1000, "USD"))
	if err != nil {
		return err
	}
	response, err := svc.Create(ctx, "ClaimResponse", body)
	if err != nil {
		return fmt.Errorf("create the demo claim response: %w", err)
	}
	if claim, err = bill.ImportClaimResponse(ctx, response.ID, by); err != nil {
		return err
	}
	sum.claimStatus = claim.Status
	owed, err := bill.GetInvoice(ctx, inv.ID)
	if err != nil {
		return err
	}
	if owed.Balance.Amount > 0 {
		_, err = bill.PostPayment(ctx, billing.PaymentParams{AccountID: acct.ID, Amount: owed.Balance, Payer: "patient", Method: "cash", By: by})
	}
	return err
}

// demoClaimResponse returns a FHIR ClaimResponse to claim c that settles
// every line. The payer allows the share allowed of each line, the
// patient pays copay of that (at most all of it) and the payer pays the
// rest. The part not allowed is a contractual adjustment.
func demoClaimResponse(c *billing.Claim, allowed billing.Rate, copay billing.Money) ([]byte, error) {
	adjudication := func(code string, m billing.Money) map[string]any {
		return map[string]any{
			"category": fhirConcept{Coding: []fhirCoding{{System: "http://terminology.hl7.org/CodeSystem/adjudication", Code: code}}},
			"amount":   fhirAmount{Value: json.Number(m.Decimal()), Currency: m.Currency},
		}
	}
	var items []map[string]any
	total := billing.Money{Currency: c.Total.Currency}
	for _, l := range c.Lines {
		eligible, err := l.Amount.Apply(allowed)
		if err != nil {
			return nil, err
		}
		patient := copay
		patient.Amount = min(patient.Amount, eligible.Amount)
		paid, err := eligible.Sub(patient)
		if err != nil {
			return nil, err
		}
		if total, err = total.Add(paid); err != nil {
			return nil, err
		}
		items = append(items, map[string]any{
			"itemSequence": l.Sequence,
			"adjudication": []map[string]any{
				adjudication("submitted", l.Amount), adjudication("eligible", eligible),
				adjudication("copay", patient), adjudication("benefit", paid),
			},
		})
	}
	return json.Marshal(map[string]any{
		"resourceType": "ClaimResponse", "status": "active", "use": "claim", "outcome": "complete",
		"type":    fhirConcept{Coding: []fhirCoding{{System: "http://terminology.hl7.org/CodeSystem/claim-type", Code: "professional"}}},
		"patient": fhirRef{Reference: "Patient/" + c.PatientID},
		"created": time.Now().UTC().Format(time.RFC3339),
		"insurer": fhirRef{Reference: "Organization/" + c.Coverage.PayerID},
		"request": fhirRef{Reference: "Claim/" + c.RecordID},
		"payment": map[string]any{
			"type":       fhirConcept{Coding: []fhirCoding{{System: "http://terminology.hl7.org/CodeSystem/ex-paymenttype", Code: "complete"}}},
			"amount":     fhirAmount{Value: json.Number(total.Decimal()), Currency: total.Currency},
			"identifier": fhirID{Value: "eft-" + c.ID},
		},
		"item": items,
	})
}
