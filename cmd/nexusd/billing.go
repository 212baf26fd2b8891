package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/billing"
	billsql "github.com/nexus-health-360/nexus/billing/sqlstore"
	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/fhir"
	"github.com/nexus-health-360/nexus/scheduling"
	"github.com/nexus-health-360/nexus/storage"
)

// openBilling returns the billing service on db. Claims it submits are
// written to the clinical record svc, and the claim responses it imports
// are read from there.
func openBilling(db *storage.DB, svc *emr.Service, log *slog.Logger) (*billing.Service, error) {
	bill, err := billing.NewService(billsql.New(db), billing.Config{Logger: log, Recorder: &claimRecorder{svc: svc}})
	if err != nil {
		return nil, fmt.Errorf("billing: %w", err)
	}
	return bill, nil
}

// billingBackend turns a nil service into a nil interface, so the FHIR
// handler leaves the billing types to the clinical record without one.
func billingBackend(svc *billing.Service) fhir.BillingService {
	if svc == nil {
		return nil
	}
	return svc
}

// Sources and event ids of the charges nexusd captures.
const (
	schedulingSource = "scheduling"
	fulfilledEvent   = "scheduling.appointment.fulfilled"
)

// appointmentCharges turns scheduling's fulfilled-appointment outbox
// events into billable events. The chargemaster code of an appointment
// is its appointment type code, so the chargemaster lists every billable
// appointment type under that code.
type appointmentCharges struct {
	sched *scheduling.Service
}

var _ billing.ChargeSource = appointmentCharges{}

// BillableEvents returns up to limit fulfilled appointments after the
// outbox position after. It reads past other events, so a short result
// means the outbox is exhausted.
func (a appointmentCharges) BillableEvents(ctx context.Context, after int64, limit int) ([]billing.SourceEvent, error) {
	var out []billing.SourceEvent
	for len(out) < limit {
		events, err := a.sched.Events(ctx, after, limit)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			after = e.Position
			if e.Type != fulfilledEvent {
				continue
			}
			appt, err := a.sched.GetAppointment(ctx, e.AppointmentID)
			if err != nil {
				return nil, fmt.Errorf("read fulfilled appointment %s: %w", e.AppointmentID, err)
			}
			out = append(out, billing.SourceEvent{
				Position: e.Position, Source: schedulingSource,
				EventID:   "appointment/" + appt.ID + "/fulfilled",
				PatientID: appt.PatientID, Code: appt.AppointmentType, Quantity: 1, ServiceDate: appt.Start,
			})
			if len(out) == limit {
				break
			}
		}
		if len(events) < limit {
			break
		}
	}
	return out, nil
}

// captureInterval is how often serve looks for new fulfilled appointments.
const captureInterval = 5 * time.Second

// captureAppointments captures the charge of every fulfilled appointment
// after position, and returns the position reached. Billing stores the
// position of each event with its charge. An appointment whose type the
// chargemaster does not price is logged and skipped, with its position
// stored, so one unbilled type does not hold up the others. Any other
// failure stops the pass at that event, to be retried on the next one.
func captureAppointments(ctx context.Context, bill *billing.Service, src billing.ChargeSource, after int64, log *slog.Logger) (int64, error) {
	for {
		events, err := src.BillableEvents(ctx, after, 100)
		if err != nil {
			return after, fmt.Errorf("read fulfilled appointments after %d: %w", after, err)
		}
		for _, ev := range events {
			_, created, err := bill.Capture(ctx, ev)
			switch {
			case errors.Is(err, billing.ErrUnknownCode):
				log.WarnContext(ctx, "fulfilled appointment not billed: its type has no chargemaster price",
					"event", ev.EventID, "code", ev.Code)
				if err := bill.SkipSourceEvent(ctx, ev); err != nil {
					return after, err
				}
			case err != nil:
				return after, err
			case created:
				log.InfoContext(ctx, "charge captured", "event", ev.EventID, "code", ev.Code)
			}
			after = ev.Position
		}
		if len(events) < 100 {
			return after, nil
		}
	}
}

// runAppointmentCapture captures fulfilled appointments every
// captureInterval until ctx ends, each pass from the position stored in
// billing, so a restart resumes after the last event captured or skipped.
func runAppointmentCapture(ctx context.Context, bill *billing.Service, sched *scheduling.Service, log *slog.Logger) {
	src := appointmentCharges{sched: sched}
	for {
		if err := captureStored(ctx, bill, src, log); err != nil && ctx.Err() == nil {
			log.ErrorContext(ctx, "charge capture from scheduling failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(captureInterval):
		}
	}
}

// captureStored runs captureAppointments from the scheduling position
// that billing stores.
func captureStored(ctx context.Context, bill *billing.Service, src billing.ChargeSource, log *slog.Logger) error {
	position, err := bill.SourcePosition(ctx, schedulingSource)
	if err != nil {
		return err
	}
	if _, err := captureAppointments(ctx, bill, src, position, log); err != nil {
		return fmt.Errorf("capture after position %d: %w", position, err)
	}
	return nil
}

// Identifier system of the FHIR Claims billing writes: the value is the
// billing claim id, so a retried write finds the Claim it wrote before.
const claimSystem = "urn:nexus-health-360:claim"

// claimRecorder keeps billing's claims in the clinical record.
type claimRecorder struct {
	svc *emr.Service
}

var _ billing.ClaimRecorder = (*claimRecorder)(nil)

// RecordClaim writes c as a FHIR R4 Claim with a conditional create on
// its identifier, so submitting again returns the Claim written first.
func (r *claimRecorder) RecordClaim(ctx context.Context, c billing.Claim, a billing.Account) (string, error) {
	body, err := json.Marshal(fhirClaim(c, a))
	if err != nil {
		return "", fmt.Errorf("encode claim %s: %w", c.ID, err)
	}
	ctx = emr.ContextWithActor(ctx, "system/nexusd-billing")
	res, _, err := r.svc.ConditionalCreate(ctx, "Claim", body, "identifier="+claimSystem+"|"+c.ID)
	if err != nil {
		return "", fmt.Errorf("write claim %s: %w", c.ID, err)
	}
	return res.ID, nil
}

type (
	fhirRef struct {
		Reference  string  `json:"reference,omitempty"`
		Identifier *fhirID `json:"identifier,omitempty"`
		Display    string  `json:"display,omitempty"`
	}
	fhirID struct {
		System string `json:"system,omitempty"`
		Value  string `json:"value"`
	}
	fhirCoding struct {
		System string `json:"system,omitempty"`
		Code   string `json:"code"`
	}
	fhirConcept struct {
		Coding []fhirCoding `json:"coding"`
	}
	fhirAmount struct {
		Value    json.Number `json:"value"`
		Currency string      `json:"currency"`
	}
)

// fhirClaim maps a billing claim onto a FHIR R4 Claim of type
// professional. The provider is the facility, named by display only,
// because billing keeps no provider record.
func fhirClaim(c billing.Claim, a billing.Account) map[string]any {
	money := func(m billing.Money) fhirAmount {
		return fhirAmount{Value: json.Number(m.Decimal()), Currency: m.Currency}
	}
	coverage := fhirRef{Identifier: &fhirID{System: fhir.CoverageSystem + c.Coverage.PayerID, Value: c.Coverage.MemberID}}
	if c.Coverage.CoverageID != "" {
		coverage = fhirRef{Reference: "Coverage/" + c.Coverage.CoverageID}
	}
	var diagnoses, items []map[string]any
	for _, d := range c.Diagnoses {
		diagnoses = append(diagnoses, map[string]any{
			"sequence":                 d.Sequence,
			"diagnosisCodeableConcept": fhirConcept{Coding: []fhirCoding{{System: "http://hl7.org/fhir/sid/icd-10-cm", Code: d.Code}}},
		})
	}
	for _, l := range c.Lines {
		item := map[string]any{
			"sequence":          l.Sequence,
			"diagnosisSequence": l.DiagnosisPointers,
			"productOrService":  fhirConcept{Coding: []fhirCoding{{System: l.System, Code: l.Code}}},
			"quantity":          map[string]any{"value": l.Quantity},
			"net":               money(l.Amount),
		}
		if !l.ServiceDate.IsZero() {
			item["servicedDate"] = l.ServiceDate.Format(time.DateOnly)
		}
		items = append(items, item)
	}
	return map[string]any{
		"resourceType": "Claim",
		"identifier":   []fhirID{{System: claimSystem, Value: c.ID}},
		"status":       "active",
		"type":         fhirConcept{Coding: []fhirCoding{{System: "http://terminology.hl7.org/CodeSystem/claim-type", Code: "professional"}}},
		"use":          "claim",
		"patient":      fhirRef{Reference: "Patient/" + a.PatientID},
		"created":      c.Created.UTC().Format(time.RFC3339),
		"provider":     fhirRef{Display: "facility " + billing.DefaultFacilityID},
		"insurer":      fhirRef{Reference: "Organization/" + c.Coverage.PayerID},
		"priority":     fhirConcept{Coding: []fhirCoding{{System: "http://terminology.hl7.org/CodeSystem/processpriority", Code: "normal"}}},
		"insurance":    []map[string]any{{"sequence": 1, "focal": true, "coverage": coverage}},
		"diagnosis":    diagnoses,
		"item":         items,
		"total":        money(c.Total),
	}
}

// claimResponse is the part of a FHIR R4 ClaimResponse a remittance
// needs.
type claimResponse struct {
	Request     fhirRef `json:"request"`
	Outcome     string  `json:"outcome"`
	Disposition string  `json:"disposition"`
	Created     string  `json:"created"`
	Payment     struct {
		Identifier *fhirID `json:"identifier"`
	} `json:"payment"`
	Item []struct {
		ItemSequence int `json:"itemSequence"`
		Adjudication []struct {
			Category fhirConcept `json:"category"`
			Amount   *fhirAmount `json:"amount"`
		} `json:"adjudication"`
	} `json:"item"`
}

// ClaimResponse reads a FHIR ClaimResponse of the clinical record as a
// remittance. Its request must reference a Claim that billing wrote. Per
// item, the adjudication categories (code system
// http://terminology.hl7.org/CodeSystem/adjudication) map as: benefit is
// paid, copay and deductible are the patient's, and submitted less
// eligible is the contractual adjustment.
func (r *claimRecorder) ClaimResponse(ctx context.Context, id string) (*billing.Remittance, error) {
	ctx = emr.ContextWithActor(ctx, "system/nexusd-billing")
	res, err := r.svc.Read(ctx, "ClaimResponse", id)
	if err != nil {
		return nil, err
	}

	var cr claimResponse
	if err := json.Unmarshal(res.Body, &cr); err != nil {
		return nil, fmt.Errorf("read ClaimResponse %s: %w", id, billing.ErrInvalid)
	}

	claimID, ok := strings.CutPrefix(cr.Request.Reference, "Claim/")
	if !ok {
		return nil, fmt.Errorf("ClaimResponse %s: request does not reference a Claim: %w", id, billing.ErrInvalid)
	}
	claim, err := r.svc.Read(ctx, "Claim", claimID)
	if err != nil {
		return nil, fmt.Errorf("ClaimResponse %s: read its Claim: %w", id, err)
	}

	var ids struct {
		Identifier []fhirID `json:"identifier"`
	}
	_ = json.Unmarshal(claim.Body, &ids)

	rem := &billing.Remittance{Outcome: cr.Outcome, Reason: cr.Disposition, Reference: id}
	for _, i := range ids.Identifier {
		if i.System == claimSystem {
			rem.ClaimID = i.Value
		}
	}
	if rem.ClaimID == "" {
		return nil, fmt.Errorf("ClaimResponse %s: Claim %s was not written by billing: %w", id, claimID, billing.ErrInvalid)
	}

	if cr.Payment.Identifier != nil && cr.Payment.Identifier.Value != "" {
		rem.Reference = cr.Payment.Identifier.Value
	}
	if t, err := time.Parse(time.DateOnly, cr.Created); err == nil {
		rem.Received = t
	} else if t, err := time.Parse(time.RFC3339, cr.Created); err == nil {
		rem.Received = t
	}

	for _, item := range cr.Item {
		line := billing.RemittanceLine{Sequence: item.ItemSequence}
		var submitted, eligible *billing.Money
		for _, adj := range item.Adjudication {
			if adj.Amount == nil || len(adj.Category.Coding) == 0 {
				continue
			}
			m, err := billing.ParseMoney(adj.Amount.Value.String(), adj.Amount.Currency)
			if err != nil {
				return nil, fmt.Errorf("ClaimResponse %s item %d: %w", id, item.ItemSequence, err)
			}
			switch adj.Category.Coding[0].Code {
			case "benefit":
				line.Paid = m
			case "copay", "deductible":
				if line.PatientResponsibility, err = addMoney(line.PatientResponsibility, m); err != nil {
					return nil, err
				}
			case "submitted":
				submitted = &m
			case "eligible":
				eligible = &m
			}
		}
		if submitted != nil && eligible != nil {
			if line.Adjusted, err = submitted.Sub(*eligible); err != nil {
				return nil, err
			}
		}
		rem.Lines = append(rem.Lines, line)
	}
	return rem, nil
}

// addMoney adds m to sum, where a zero sum has no currency yet.
func addMoney(sum, m billing.Money) (billing.Money, error) {
	if sum.Currency == "" {
		return m, nil
	}
	return sum.Add(m)
}

// startAppointmentCapture runs runAppointmentCapture for serve when it
// has both billing and scheduling, and returns the function that stops it.
func startAppointmentCapture(ctx context.Context, o serveOptions) (stop func()) {
	if o.billing == nil || o.sched == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runAppointmentCapture(ctx, o.billing, o.sched, o.log)
	}()
	return func() {
		cancel()
		<-done
	}
}
