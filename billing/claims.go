package billing

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// ClaimRecorder connects billing to the clinical record, where Claim,
// ClaimResponse and Coverage resources live. The billing package declares
// it, and the daemon implements it on the record's service.
type ClaimRecorder interface {
	// RecordClaim writes c as a FHIR Claim and returns its id.
	RecordClaim(ctx context.Context, c Claim, a Account) (string, error)
	// ClaimResponse reads the FHIR ClaimResponse with id as a remittance.
	ClaimResponse(ctx context.Context, id string) (*Remittance, error)
}

// icd10 matches an ICD-10 or ICD-10-CM code with or without its dot:
// a letter, two characters and up to four more after the category.
var icd10 = regexp.MustCompile(`^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$`)

// BuildClaimParams builds a claim for an issued invoice.
type BuildClaimParams struct {
	InvoiceID string
	// Diagnoses are ICD-10 codes, most important first; at least one.
	Diagnoses []string
	// CoverageOrder picks the account's coverage by order of benefits;
	// default 1, the primary.
	CoverageOrder int
	By            string
}

// BuildClaim drafts an insurance claim from an issued invoice's lines,
// the diagnoses and the account's coverage. Each line points at the
// first four diagnoses, the most an 837P service line can carry.
func (s *Service) BuildClaim(ctx context.Context, p BuildClaimParams) (*Claim, error) {
	if err := requireBy("build claim", p.By); err != nil {
		return nil, err
	}
	if len(p.Diagnoses) == 0 || len(p.Diagnoses) > 12 {
		return nil, invalidf("build claim for invoice %s: 1 to 12 diagnoses are required", p.InvoiceID)
	}

	var diags []Diagnosis
	for i, d := range p.Diagnoses {
		code := strings.ToUpper(strings.TrimSpace(d))
		if !icd10.MatchString(code) {
			return nil, invalidf("build claim for invoice %s: diagnosis %d %q is not an ICD-10 code", p.InvoiceID, i+1, d)
		}
		diags = append(diags, Diagnosis{Sequence: i + 1, Code: code})
	}

	if p.CoverageOrder == 0 {
		p.CoverageOrder = 1
	}

	// The invoice's account is read before the transaction, so that the
	// transaction locks the account before the invoice, in the order
	// PostPayment takes them.
	listed, err := s.store.GetInvoice(ctx, p.InvoiceID)
	if err != nil {
		return nil, fmt.Errorf("build claim for invoice %s: %w", p.InvoiceID, err)
	}

	var out *Claim
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		acct, err := tx.GetAccount(ctx, listed.AccountID)
		if err != nil {
			return err
		}
		inv, err := tx.GetInvoice(ctx, p.InvoiceID)
		if err != nil {
			return err
		}
		if inv.AccountID != acct.ID {
			return fmt.Errorf("invoice %s no longer belongs to account %s: %w", inv.ID, acct.ID, ErrConflict)
		}
		if inv.Kind != KindInvoice || (inv.Status != InvoiceIssued && inv.Status != InvoiceBalanced) {
			return fmt.Errorf("%s %s is %s, not issued: %w", inv.Kind, inv.ID, inv.Status, ErrConflict)
		}

		var cov *Coverage
		for _, c := range acct.Coverages {
			if c.Order == p.CoverageOrder {
				cov = &c
			}
		}
		if cov == nil {
			return fmt.Errorf("account %s has no coverage of order %d: %w", acct.ID, p.CoverageOrder, ErrInvalid)
		}

		pointers := make([]int, 0, 4)
		for i := range min(4, len(diags)) {
			pointers = append(pointers, i+1)
		}

		charges, err := tx.ListCharges(ctx, ChargeFilter{InvoiceID: inv.ID})
		if err != nil {
			return err
		}
		dates := map[string]time.Time{}
		for _, c := range charges {
			dates[c.ID] = c.ServiceDate
		}

		now := s.now()
		c := &Claim{
			ID: s.cfg.NewID(), AccountID: acct.ID, InvoiceID: inv.ID, PatientID: acct.PatientID, Coverage: *cov,
			Diagnoses: diags, Total: inv.TotalGross, Status: ClaimDraft, Version: 1, Created: now, Updated: now,
			UpdatedBy: p.By, Paid: Money{Currency: inv.Currency}, Adjusted: Money{Currency: inv.Currency},
			PatientResponsibility: Money{Currency: inv.Currency},
		}
		for _, l := range inv.Lines {
			c.Lines = append(c.Lines, ClaimLine{
				Sequence: l.Sequence, ChargeID: l.ChargeID, Code: l.Code, System: l.System, Quantity: l.Quantity,
				Amount: l.Total, DiagnosisPointers: pointers, ServiceDate: dates[l.ChargeID],
			})
		}

		if err := tx.PutClaim(ctx, *c); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build claim for invoice %s: %w", p.InvoiceID, err)
	}
	return out, nil
}

// SubmitClaim moves a draft claim to submitted. With Config.Recorder
// set, it first writes the claim to the clinical record as a FHIR Claim.
func (s *Service) SubmitClaim(ctx context.Context, claimID, by string) (*Claim, error) {
	if err := requireBy("submit claim", by); err != nil {
		return nil, err
	}
	c, err := s.store.GetClaim(ctx, claimID)
	if err != nil {
		return nil, fmt.Errorf("submit claim %s: %w", claimID, err)
	}
	if c.Status != ClaimDraft {
		return nil, fmt.Errorf("submit claim %s: claim is %s, not draft: %w", claimID, c.Status, ErrConflict)
	}
	recordID := ""
	if s.cfg.Recorder != nil {
		acct, err := s.store.GetAccount(ctx, c.AccountID)
		if err != nil {
			return nil, fmt.Errorf("submit claim %s: %w", claimID, err)
		}
		// NOTE: the record write is not in the billing transaction, so a
		// failed status change below leaves a FHIR Claim for a draft.
		if recordID, err = s.cfg.Recorder.RecordClaim(ctx, *c, *acct); err != nil {
			return nil, fmt.Errorf("submit claim %s: write FHIR Claim: %w", claimID, err)
		}
	}
	return s.changeClaim(ctx, claimID, by, func(c *Claim) error {
		if c.Status != ClaimDraft {
			return fmt.Errorf("claim is %s, not draft: %w", c.Status, ErrConflict)
		}
		c.Status, c.RecordID = ClaimSubmitted, recordID
		return nil
	}, EventClaimSubmitted)
}

// SetClaimStatus records a payer's acknowledgement: accepted or rejected,
// with the payer's reason.
func (s *Service) SetClaimStatus(ctx context.Context, claimID string, status ClaimStatus, reason, by string) (*Claim, error) {
	if err := requireBy("set claim status", by); err != nil {
		return nil, err
	}
	if status != ClaimAccepted && status != ClaimRejected {
		return nil, invalidf("set claim %s status: %q is not accepted or rejected", claimID, status)
	}
	return s.changeClaim(ctx, claimID, by, func(c *Claim) error {
		if c.Status != ClaimSubmitted && c.Status != ClaimAccepted {
			return fmt.Errorf("claim is %s, not submitted: %w", c.Status, ErrConflict)
		}
		c.Status, c.Reason = status, reason
		return nil
	}, EventClaimStatus)
}

func (s *Service) changeClaim(ctx context.Context, id, by string, change func(*Claim) error, event string) (*Claim, error) {
	var out *Claim
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		c, err := tx.GetClaim(ctx, id)
		if err != nil {
			return err
		}
		if err := change(c); err != nil {
			return err
		}
		c.Version++
		c.Updated, c.UpdatedBy = s.now(), by
		if err := tx.PutClaim(ctx, *c); err != nil {
			return err
		}
		out = c
		return emit(ctx, tx, c.Updated, event, c.ID, c.Version, map[string]any{"status": c.Status, "invoice": c.InvoiceID})
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", id, err)
	}
	return out, nil
}

// PostRemittance posts a payer's remittance for a submitted or accepted
// claim: the payment allocated to the claim's invoice, the contractual
// adjustment taken off it, and the patient responsibility left on it.
// The claim becomes paid when every line is settled in full, partially
// paid otherwise, and rejected for outcome "error". Each line's paid,
// adjusted and patient amounts together cannot exceed the line amount,
// and with the claim-level amounts and earlier remittances they cannot
// exceed the claim total.
func (s *Service) PostRemittance(ctx context.Context, r Remittance) (*Claim, error) {
	if err := requireBy("post remittance", r.By); err != nil {
		return nil, err
	}
	var out *Claim
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		c, err := s.postRemittance(ctx, tx, r)
		out = c
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("post remittance for claim %s: %w", r.ClaimID, err)
	}
	return out, nil
}

// postRemittance posts r within tx, as PostRemittance describes.
func (s *Service) postRemittance(ctx context.Context, tx Tx, r Remittance) (*Claim, error) {
	var out *Claim
	c, err := tx.GetClaim(ctx, r.ClaimID)
	if err != nil {
		return nil, err
	}
	switch c.Status {
	case ClaimSubmitted, ClaimAccepted, ClaimPartiallyPaid:
	default:
		return nil, fmt.Errorf("claim is %s and takes no remittance: %w", c.Status, ErrConflict)
	}
	now := s.now()
	if r.Outcome == "error" {
		c.Status, c.Reason = ClaimRejected, r.Reason
		err := s.saveClaim(ctx, tx, c, now, r.By, &out)
		return out, err
	}
	paid, adjusted, patient, err := remittanceTotals(c, r)
	if err != nil {
		return nil, err
	}

	if paid.Amount > 0 {
		received := r.Received
		if received.IsZero() {
			received = now
		}
		_, err := s.postPayment(ctx, tx, PaymentParams{
			AccountID: c.AccountID, Amount: paid, Payer: c.Coverage.PayerID, Method: "remittance",
			Reference: r.Reference, Received: received, ClaimID: c.ID, By: r.By,
			Allocations: []Allocation{{InvoiceID: c.InvoiceID, Amount: paid}},
		})
		if err != nil {
			return nil, err
		}
	}
	if adjusted.Amount > 0 {
		if err := s.postAdjustment(ctx, tx, c, adjusted, now, r.By); err != nil {
			return nil, err
		}
	}

	if c.Paid, err = c.Paid.Add(paid); err != nil {
		return nil, err
	}
	if c.Adjusted, err = c.Adjusted.Add(adjusted); err != nil {
		return nil, err
	}
	if c.PatientResponsibility, err = c.PatientResponsibility.Add(patient); err != nil {
		return nil, err
	}
	settled := c.Paid.Amount + c.Adjusted.Amount + c.PatientResponsibility.Amount
	c.Status, c.Reason = ClaimPartiallyPaid, r.Reason
	if settled == c.Total.Amount {
		c.Status = ClaimPaid
	}
	err = s.saveClaim(ctx, tx, c, now, r.By, &out)
	return out, err
}

// postAdjustment takes a remittance's contractual adjustment off the
// claim's invoice.
func (s *Service) postAdjustment(ctx context.Context, tx Tx, c *Claim, adjusted Money, now time.Time, by string) error {
	acct, err := tx.GetAccount(ctx, c.AccountID)
	if err != nil {
		return err
	}
	if err := s.checkApplicable(ctx, tx, acct, c.InvoiceID, adjusted); err != nil {
		return err
	}
	err = tx.Post(ctx, []Entry{{
		JournalID: "remittance-" + s.cfg.NewID(), Kind: EntryAdjustment, Debit: BookAdjustment, Credit: BookReceivable,
		Amount: adjusted, AccountID: c.AccountID, InvoiceID: c.InvoiceID, Posted: now, PostedBy: by,
		Memo: "contractual adjustment of claim " + c.ID,
	}})
	if err != nil {
		return err
	}
	return s.markBalanced(ctx, tx, []Allocation{{InvoiceID: c.InvoiceID}}, now, by)
}

func (s *Service) saveClaim(ctx context.Context, tx Tx, c *Claim, at time.Time, by string, out **Claim) error {
	c.Version++
	c.Updated, c.UpdatedBy = at, by
	if err := tx.PutClaim(ctx, *c); err != nil {
		return err
	}
	*out = c
	return emit(ctx, tx, at, EventClaimStatus, c.ID, c.Version, map[string]any{
		"status": c.Status, "invoice": c.InvoiceID, "paid": moneyData(c.Paid), "adjusted": moneyData(c.Adjusted),
	})
}

// remittanceTotals checks each remittance line against its claim line and
// sums the amounts.
func remittanceTotals(c *Claim, r Remittance) (paid, adjusted, patient Money, err error) {
	cur := c.Total.Currency
	paid, adjusted, patient = Money{Currency: cur}, Money{Currency: cur}, Money{Currency: cur}
	if len(r.Lines) == 0 {
		return paid, adjusted, patient, invalidf("remittance has no lines")
	}

	lines := map[int]ClaimLine{}
	for _, l := range c.Lines {
		lines[l.Sequence] = l
	}

	seen := map[int]bool{}
	for _, rl := range r.Lines {
		cl, ok := lines[rl.Sequence]
		if !ok || seen[rl.Sequence] {
			return paid, adjusted, patient, invalidf("remittance line %d matches no claim line or repeats", rl.Sequence)
		}
		seen[rl.Sequence] = true

		sum := Money{Currency: cur}
		for _, m := range []Money{rl.Paid, rl.Adjusted, rl.PatientResponsibility} {
			if m.Currency == "" && m.Amount == 0 {
				continue
			}
			if m.Amount < 0 {
				return paid, adjusted, patient, invalidf("remittance line %d has a negative amount", rl.Sequence)
			}
			if sum, err = sum.Add(m); err != nil {
				return paid, adjusted, patient, fmt.Errorf("remittance line %d: %w", rl.Sequence, err)
			}
		}
		if sum.Amount > cl.Amount.Amount {
			return paid, adjusted, patient, fmt.Errorf("remittance line %d settles %s of %s: %w", rl.Sequence, sum, cl.Amount, ErrOverpayment)
		}

		paid.Amount += rl.Paid.Amount
		adjusted.Amount += rl.Adjusted.Amount
		patient.Amount += rl.PatientResponsibility.Amount
	}

	for _, claimLevel := range []struct {
		sum *Money
		m   Money
	}{{&adjusted, r.Adjusted}, {&patient, r.PatientResponsibility}} {
		if claimLevel.m.Currency == "" && claimLevel.m.Amount == 0 {
			continue
		}
		if claimLevel.m.Amount < 0 {
			return paid, adjusted, patient, invalidf("remittance has a negative claim-level amount")
		}
		if *claimLevel.sum, err = claimLevel.sum.Add(claimLevel.m); err != nil {
			return paid, adjusted, patient, fmt.Errorf("claim-level amount: %w", err)
		}
	}

	// Earlier remittances of a partially paid claim count too, so the
	// claim is never settled beyond its total.
	open := c.Total.Amount - c.Paid.Amount - c.Adjusted.Amount - c.PatientResponsibility.Amount
	if settled := paid.Amount + adjusted.Amount + patient.Amount; settled > open {
		return paid, adjusted, patient, fmt.Errorf("remittance settles %s of the %s still open on the claim: %w",
			NewMoney(settled, cur), NewMoney(open, cur), ErrOverpayment)
	}
	return paid, adjusted, patient, nil
}

// ClaimResponsePayer is the PayerID under which ImportClaimResponse
// records each ClaimResponse it posts, with the response id as the
// reference.
const ClaimResponsePayer = "fhir:ClaimResponse"

// ImportClaimResponse reads a FHIR ClaimResponse from the clinical record
// through Config.Recorder and posts it as a remittance. A response is
// posted once: importing it again fails with ErrDuplicateRemittance.
func (s *Service) ImportClaimResponse(ctx context.Context, responseID, by string) (*Claim, error) {
	if err := requireBy("import claim response", by); err != nil {
		return nil, err
	}
	if s.cfg.Recorder == nil {
		return nil, invalidf("import claim response %s: no ClaimRecorder is configured", responseID)
	}
	r, err := s.cfg.Recorder.ClaimResponse(ctx, responseID)
	if err != nil {
		return nil, fmt.Errorf("import claim response %s: %w", responseID, err)
	}
	r.By = by
	var out *Claim
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		err := tx.InsertRemittanceAdvice(ctx, RemittanceAdvice{
			PayerID: ClaimResponsePayer, Reference: responseID, Claims: 1, Received: r.Received, Posted: s.now(), PostedBy: by,
		})
		if err != nil {
			return err
		}
		out, err = s.postRemittance(ctx, tx, *r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("import claim response %s for claim %s: %w", responseID, r.ClaimID, err)
	}
	return out, nil
}

// GetClaim returns a claim.
func (s *Service) GetClaim(ctx context.Context, id string) (*Claim, error) {
	return s.store.GetClaim(ctx, id)
}

// ListClaims returns the claims that match f.
func (s *Service) ListClaims(ctx context.Context, f ClaimFilter) ([]Claim, error) {
	return s.store.ListClaims(ctx, f)
}
