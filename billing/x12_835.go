package billing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// maxX12Bytes limits the interchange Read835 reads, 16 MiB.
const maxX12Bytes = 16 << 20

// Read835 reads the claim payments of an ASC X12 005010X221A1 (835)
// interchange, one Remittance per CLP loop. The delimiters come from the
// ISA segment. Amounts are read in currency, because X12 amounts carry
// none. For each claim:
//   - ClaimID is CLP01, the id that Write837P sent in CLM01.
//   - Outcome is "error" when CLP02 is 4 (denied), else "complete".
//   - Reference is TRN02, the check or EFT number, PayerID is TRN03,
//     and Received the BPR16 date.
//   - Each SVC is one line, matched by its REF*6R line control number or
//     else by position. Paid is SVC03, PatientResponsibility the CAS
//     amounts of group PR, and Adjusted those of groups CO, OA and PI.
//   - CAS segments after CLP and before the first SVC are claim-level
//     adjustments, summed into the Remittance's own Adjusted and
//     PatientResponsibility by the same groups.
//
// A malformed segment, an amount with more fraction digits than the
// currency has, a claim without service lines or a transaction set
// without TRN02 and TRN03 is rejected with ErrInvalid. So is a PLB
// segment: billing keeps no provider-level ledger to post it to, and
// posting the claims without it would put a different amount in cash
// than the payer sent.
func Read835(r io.Reader, currency string) ([]Remittance, error) {
	if err := ValidCurrency(currency); err != nil {
		return nil, fmt.Errorf("read 835: %w", err)
	}

	raw, err := io.ReadAll(io.LimitReader(r, maxX12Bytes+1))
	if err != nil {
		return nil, fmt.Errorf("read 835: %w", err)
	}
	if len(raw) > maxX12Bytes {
		return nil, invalidf("read 835: the interchange is larger than %d bytes", maxX12Bytes)
	}

	text := strings.TrimLeft(string(raw), " \t\r\n\ufeff")
	if len(text) < 106 || !strings.HasPrefix(text, "ISA") {
		return nil, invalidf("read 835: the interchange does not start with a 106-character ISA segment")
	}

	element, component, terminator := text[3], text[104], text[105]
	p := &reader835{element: string(element), component: string(component), currency: currency}
	for i, seg := range strings.Split(text, string(terminator)) {
		seg = strings.Trim(seg, "\r\n")
		if seg == "" {
			continue
		}
		if err := p.segment(strings.Split(seg, p.element)); err != nil {
			return nil, fmt.Errorf("read 835 segment %d: %w", i+1, err)
		}
	}

	if err := p.closeClaim(); err != nil {
		return nil, fmt.Errorf("read 835: %w", err)
	}
	if !p.sawST {
		return nil, invalidf("read 835: no 835 transaction set")
	}
	return p.out, nil
}

// reader835 is the state of Read835 between segments.
type reader835 struct {
	element, component, currency string
	sawST                        bool
	reference, payer             string
	received                     time.Time
	claim                        *Remittance
	// line is the service line that CAS and REF segments belong to; nil
	// while they belong to the claim.
	line *RemittanceLine
	out  []Remittance
}

func (p *reader835) segment(f []string) error {
	get := func(i int) string {
		if i < len(f) {
			return strings.TrimSpace(f[i])
		}
		return ""
	}
	switch f[0] {
	case "ST":
		if get(1) != "835" {
			return invalidf("transaction set %q is not an 835", get(1))
		}
		p.sawST = true
		p.reference, p.payer, p.received = "", "", time.Time{}
	case "BPR":
		if d := get(16); d != "" {
			t, err := time.Parse("20060102", d)
			if err != nil {
				return invalidf("BPR16 %q is not a CCYYMMDD date", d)
			}
			p.received = t
		}
	case "TRN":
		p.reference, p.payer = get(2), get(3)
	case "CLP":
		if err := p.closeClaim(); err != nil {
			return err
		}
		if get(1) == "" {
			return invalidf("CLP01 (the claim id) is missing")
		}
		if p.reference == "" || p.payer == "" {
			return invalidf("claim %s: the TRN segment with TRN02 (the payment trace number) and TRN03 (the payer id) is missing", get(1))
		}
		outcome := "complete"
		if get(2) == "4" {
			outcome = "error"
		}
		p.claim = &Remittance{ClaimID: get(1), Outcome: outcome, Reference: p.reference, PayerID: p.payer, Received: p.received}
		p.line = nil
	case "SVC":
		if p.claim == nil {
			return invalidf("SVC outside a CLP loop")
		}
		paid, err := p.money("SVC03", get(3))
		if err != nil {
			return err
		}
		p.claim.Lines = append(p.claim.Lines, RemittanceLine{Sequence: len(p.claim.Lines) + 1, Paid: paid})
		p.line = &p.claim.Lines[len(p.claim.Lines)-1]
	case "REF":
		if get(1) == "6R" && p.line != nil {
			n, err := strconv.Atoi(get(2))
			if err != nil || n < 1 {
				return invalidf("REF*6R %q is not a line sequence", get(2))
			}
			p.line.Sequence = n
		}
	case "CAS":
		switch {
		case p.line != nil:
			return p.adjustments(f, &p.line.Adjusted, &p.line.PatientResponsibility)
		case p.claim != nil:
			return p.adjustments(f, &p.claim.Adjusted, &p.claim.PatientResponsibility)
		}
		return invalidf("CAS outside a CLP loop")
	case "PLB":
		return invalidf("PLB provider-level adjustment (reason %s) of payment %s cannot be posted: billing keeps no provider-level ledger, so post this remittance by hand",
			get(3), p.reference)
	case "SE":
		return p.closeClaim()
	}
	return nil
}

// adjustments adds the amounts of a CAS segment to adjusted or patient:
// CAS01 is the group, then up to six triples of reason, amount and
// quantity.
func (p *reader835) adjustments(f []string, adjusted, patient *Money) error {
	if len(f) < 4 {
		return invalidf("CAS needs a group, a reason and an amount")
	}
	group := strings.TrimSpace(f[1])
	for i := 3; i < len(f); i += 3 {
		if strings.TrimSpace(f[i]) == "" {
			continue
		}
		m, err := p.money("CAS"+strconv.Itoa(i), f[i])
		if err != nil {
			return err
		}
		switch group {
		case "PR":
			patient.Amount += m.Amount
		case "CO", "OA", "PI":
			adjusted.Amount += m.Amount
		default:
			return invalidf("CAS01 %q is not a claim adjustment group code (CO, OA, PI or PR)", group)
		}
	}
	return nil
}

func (p *reader835) money(element, value string) (Money, error) {
	m, err := ParseMoney(strings.TrimSpace(value), p.currency)
	if err != nil {
		return Money{}, fmt.Errorf("%s: %w", element, err)
	}
	return m, nil
}

// closeClaim ends the current CLP loop.
func (p *reader835) closeClaim() error {
	if p.claim == nil {
		return nil
	}
	c := p.claim
	p.claim, p.line = nil, nil
	if len(c.Lines) == 0 && c.Outcome != "error" {
		return invalidf("claim %s has no service lines (SVC)", c.ClaimID)
	}
	for i := range c.Lines {
		l := &c.Lines[i]
		l.Adjusted.Currency, l.PatientResponsibility.Currency = p.currency, p.currency
	}
	c.Adjusted.Currency, c.PatientResponsibility.Currency = p.currency, p.currency
	p.out = append(p.out, *c)
	return nil
}

// Post835 reads an 835 interchange with Read835, in the service's
// currency, and posts the claim payments of each payment advice (one
// payer's TRN03 and TRN02) with PostRemittance, all claims of one advice
// in one transaction. An advice posted before, even by a concurrent
// call, fails with ErrDuplicateRemittance and posts nothing, because a
// unique key on payer and reference in the store rejects the second
// post. Post835 stops at the first advice that fails and returns the
// claims of the advices posted before it.
func (s *Service) Post835(ctx context.Context, r io.Reader, by string) ([]*Claim, error) {
	if err := requireBy("post 835", by); err != nil {
		return nil, err
	}
	remittances, err := Read835(r, s.cfg.Currency)
	if err != nil {
		return nil, err
	}
	var posted []*Claim
	for _, advice := range byAdvice(remittances) {
		claims, err := s.postAdvice(ctx, advice, by)
		if err != nil {
			return posted, fmt.Errorf("post 835 payment %s of payer %s: %w", advice[0].Reference, advice[0].PayerID, err)
		}
		posted = append(posted, claims...)
	}
	return posted, nil
}

// byAdvice groups remittances by payer and reference, in file order.
func byAdvice(remittances []Remittance) [][]Remittance {
	var out [][]Remittance
	index := map[[2]string]int{}
	for _, rem := range remittances {
		key := [2]string{rem.PayerID, rem.Reference}
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], rem)
	}
	return out
}

// postAdvice records one payment advice and posts its claims in one
// transaction.
func (s *Service) postAdvice(ctx context.Context, advice []Remittance, by string) ([]*Claim, error) {
	var posted []*Claim
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		posted = posted[:0]
		first := advice[0]
		err := tx.InsertRemittanceAdvice(ctx, RemittanceAdvice{
			PayerID: first.PayerID, Reference: first.Reference, Claims: len(advice),
			Received: first.Received, Posted: s.now(), PostedBy: by,
		})
		if err != nil {
			return err
		}
		for _, rem := range advice {
			rem.By = by
			c, err := s.postRemittance(ctx, tx, rem)
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("CLP01 %s names no claim of this system: %w", rem.ClaimID, err)
			}
			if err != nil {
				return fmt.Errorf("claim %s: %w", rem.ClaimID, err)
			}
			posted = append(posted, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return posted, nil
}
