package billing

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DraftInvoiceParams drafts an invoice.
type DraftInvoiceParams struct {
	AccountID string
	// FacilityID numbers the invoice; default Config.FacilityID.
	FacilityID string
	// ChargeIDs limits the draft to these open charges; empty takes
	// every open charge of the account.
	ChargeIDs []string
	// ExpectNet and ExpectGross, when set, must equal the draft's totals,
	// or nothing is stored and the error wraps ErrInvalid. They let a
	// caller that sent totals, such as a FHIR Invoice, check them.
	ExpectNet   *Money
	ExpectGross *Money
	// Issue issues the draft in the same transaction, so a failure
	// leaves neither a draft nor a number taken.
	Issue bool
	// Identifiers are the client's identifiers of the invoice.
	Identifiers []Identifier
	By          string
}

// DraftInvoice drafts an invoice from open charges of an account. A
// charge and its reversal that are both open cancel out and are left off.
// A draft holds its charges, so no other invoice takes them.
func (s *Service) DraftInvoice(ctx context.Context, p DraftInvoiceParams) (*Invoice, error) {
	if err := requireBy("draft invoice", p.By); err != nil {
		return nil, err
	}
	if p.FacilityID == "" {
		p.FacilityID = s.cfg.FacilityID
	}
	if err := ValidIdentifiers(p.Identifiers); err != nil {
		return nil, fmt.Errorf("draft invoice on account %s: %w", p.AccountID, err)
	}
	var out *Invoice
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		acct, err := tx.GetAccount(ctx, p.AccountID)
		if err != nil {
			return err
		}
		open, err := tx.ListCharges(ctx, ChargeFilter{AccountID: acct.ID, OpenOnly: true})
		if err != nil {
			return err
		}
		charges, err := pickCharges(open, p.ChargeIDs)
		if err != nil {
			return err
		}
		if len(charges) == 0 {
			return fmt.Errorf("account %s has no open charges to invoice: %w", acct.ID, ErrInvalid)
		}
		if len(charges) > s.cfg.MaxInvoiceLines {
			return fmt.Errorf("%d charges exceed the limit of %d lines, pass ChargeIDs: %w", len(charges), s.cfg.MaxInvoiceLines, ErrInvalid)
		}
		inv, err := s.buildDraft(acct, p, charges)
		if err != nil {
			return err
		}
		if err := checkExpected(inv, p.ExpectNet, p.ExpectGross); err != nil {
			return err
		}
		if err := tx.InsertInvoice(ctx, *inv); err != nil {
			return err
		}
		out = inv
		err = emit(ctx, tx, inv.Created, EventInvoiceDrafted, inv.ID, 1, map[string]any{
			"account": acct.ID, "lines": len(inv.Lines), "total_gross": moneyData(inv.TotalGross),
		})
		if err != nil || !p.Issue {
			return err
		}
		out, err = s.issue(ctx, tx, inv.ID, p.By)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("draft invoice on account %s: %w", p.AccountID, err)
	}
	return out, nil
}

// checkExpected compares the totals a caller sent with the draft's.
func checkExpected(inv *Invoice, net, gross *Money) error {
	if net != nil && *net != inv.TotalNet {
		return invalidf("the expected net total %s differs from %s, the sum of the open charges", *net, inv.TotalNet)
	}
	if gross != nil && *gross != inv.TotalGross {
		return invalidf("the expected gross total %s differs from %s, the sum of the open charges", *gross, inv.TotalGross)
	}
	return nil
}

// pickCharges drops open pairs of a charge and its reversal, then keeps
// the requested ids, each of which must be open.
func pickCharges(open []Charge, ids []string) ([]Charge, error) {
	byID := map[string]bool{}
	for _, c := range open {
		byID[c.ID] = true
	}
	pairs := map[string]bool{}
	for _, c := range open {
		if c.Reverses != "" && byID[c.Reverses] {
			pairs[c.ID], pairs[c.Reverses] = true, true
		}
	}
	var out []Charge
	for _, c := range open {
		if pairs[c.ID] {
			continue
		}
		if len(ids) == 0 || slices.Contains(ids, c.ID) {
			out = append(out, c)
		}
	}
	if len(ids) > 0 && len(out) != len(slices.Compact(slices.Sorted(slices.Values(ids)))) {
		return nil, fmt.Errorf("some of the requested charges are not open or cancel out with their reversal: %w", ErrConflict)
	}
	return out, nil
}

func (s *Service) buildDraft(acct *Account, p DraftInvoiceParams, charges []Charge) (*Invoice, error) {
	now := s.now()
	inv := &Invoice{
		ID: s.cfg.NewID(), Kind: KindInvoice, AccountID: acct.ID, FacilityID: p.FacilityID, Status: InvoiceDraft,
		Currency: acct.Currency, Identifiers: slices.Clone(p.Identifiers), Version: 1, Created: now, Updated: now,
		UpdatedBy: p.By,
	}
	for i, c := range charges {
		if c.UnitPrice.Currency != acct.Currency {
			return nil, fmt.Errorf("charge %s is in %s, account in %s: %w", c.ID, c.UnitPrice.Currency, acct.Currency, ErrCurrencyMismatch)
		}
		amounts, err := c.Line()
		if err != nil {
			return nil, fmt.Errorf("charge %s: %w", c.ID, err)
		}
		inv.Lines = append(inv.Lines, InvoiceLine{
			Sequence: i + 1, ChargeID: c.ID, Code: c.Code, System: c.System, Display: c.Display,
			Quantity: c.Quantity, UnitPrice: c.UnitPrice, TaxRate: c.TaxRate, LineAmounts: amounts,
		})
	}
	var err error
	inv.TotalNet, inv.TotalTax, inv.TotalGross, err = Totals(acct.Currency, inv.Lines)
	if err != nil {
		return nil, err
	}
	inv.Balance = Money{Currency: acct.Currency}
	return inv, nil
}

// IssueInvoice issues a draft: it takes the next number of the facility,
// checks the totals against the lines, and posts the receivable to the
// ledger, all in one transaction. A negative part of the total (a credit
// from reversed charges) first reduces the invoice's own receivable, and
// what remains becomes account credit.
func (s *Service) IssueInvoice(ctx context.Context, invoiceID, by string) (*Invoice, error) {
	if err := requireBy("issue invoice", by); err != nil {
		return nil, err
	}
	var out *Invoice
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		out, err = s.issue(ctx, tx, invoiceID, by)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("issue invoice %s: %w", invoiceID, err)
	}
	return out, nil
}

// issue numbers a draft, posts its receivable and emits the event, in tx.
func (s *Service) issue(ctx context.Context, tx Tx, invoiceID, by string) (*Invoice, error) {
	inv, err := tx.GetInvoice(ctx, invoiceID)
	if err != nil {
		return nil, err
	}
	if inv.Status != InvoiceDraft {
		return nil, fmt.Errorf("invoice is %s, not a draft: %w", inv.Status, ErrConflict)
	}
	if err := checkTotals(inv); err != nil {
		return nil, err
	}

	number, err := tx.NextNumber(ctx, inv.FacilityID, inv.Kind)
	if err != nil {
		return nil, err
	}

	now := s.now()
	if err := tx.UpdateInvoice(ctx, InvoiceUpdate{
		ID: inv.ID, FromStatus: InvoiceDraft, Status: InvoiceIssued, Version: inv.Version + 1,
		Number: number, At: now, By: by,
	}); err != nil {
		return nil, err
	}
	if err := tx.Post(ctx, issueEntries(inv, now, by)); err != nil {
		return nil, err
	}

	out, err := tx.GetInvoice(ctx, inv.ID)
	if err != nil {
		return nil, err
	}
	return out, emit(ctx, tx, now, EventInvoiceIssued, inv.ID, out.Version, map[string]any{
		"account": inv.AccountID, "facility": inv.FacilityID, "kind": inv.Kind, "number": number,
		"total_net": moneyData(inv.TotalNet), "total_tax": moneyData(inv.TotalTax), "total_gross": moneyData(inv.TotalGross),
	})
}

// checkTotals checks that each line of inv adds up (Gross is unit price
// times quantity, Net is Gross less Discount, Total is Net plus Tax) and
// that the invoice totals are the sums of the lines.
func checkTotals(inv *Invoice) error {
	for _, l := range inv.Lines {
		gross, err := l.UnitPrice.Mul(l.Quantity)
		if err != nil {
			return fmt.Errorf("invoice %s line %d: %w", inv.ID, l.Sequence, err)
		}
		if gross != l.Gross || l.Gross.Amount-l.Discount.Amount != l.Net.Amount || l.Net.Amount+l.Tax.Amount != l.Total.Amount {
			return fmt.Errorf("invoice %s line %d does not add up: %w", inv.ID, l.Sequence, ErrConflict)
		}
	}
	net, tax, gross, err := Totals(inv.Currency, inv.Lines)
	if err != nil {
		return err
	}
	if net != inv.TotalNet || tax != inv.TotalTax || gross != inv.TotalGross {
		return fmt.Errorf("invoice %s totals differ from the sum of its lines: %w", inv.ID, ErrConflict)
	}
	return nil
}

// issueEntries posts an invoice's net and tax to its receivable. Positive
// parts go first, so that negative parts can draw on them; what a
// negative part cannot draw becomes account credit.
func issueEntries(inv *Invoice, at time.Time, by string) []Entry {
	parts := []struct {
		book   Book
		amount int64
	}{{BookRevenue, inv.TotalNet.Amount}, {BookTax, inv.TotalTax.Amount}}
	journal := "issue-" + inv.ID
	kind := EntryInvoice
	entry := func(debit, credit Book, amount int64) Entry {
		return Entry{
			JournalID: journal, Kind: kind, Debit: debit, Credit: credit,
			Amount: Money{Amount: amount, Currency: inv.Currency}, AccountID: inv.AccountID,
			InvoiceID: inv.ID, Posted: at, PostedBy: by, Memo: string(inv.Kind) + " issued",
		}
	}
	var out []Entry
	var receivable int64
	for _, p := range parts {
		if p.amount > 0 {
			out = append(out, entry(BookReceivable, p.book, p.amount))
			receivable += p.amount
		}
	}
	for _, p := range parts {
		if p.amount >= 0 {
			continue
		}
		owed := -p.amount
		fromReceivable := min(owed, receivable)
		if fromReceivable > 0 {
			out = append(out, entry(p.book, BookReceivable, fromReceivable))
			receivable -= fromReceivable
		}
		if rest := owed - fromReceivable; rest > 0 {
			out = append(out, entry(p.book, BookUnapplied, rest))
		}
	}
	return out
}

// DiscardDraft cancels a draft, which was never numbered, and releases
// its charges.
func (s *Service) DiscardDraft(ctx context.Context, invoiceID, reason, by string) (*Invoice, error) {
	if err := requireBy("discard draft", by); err != nil {
		return nil, err
	}
	var out *Invoice
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		inv, err := tx.GetInvoice(ctx, invoiceID)
		if err != nil {
			return err
		}
		if inv.Status != InvoiceDraft {
			return fmt.Errorf("invoice is %s, not a draft: cancel it with a credit note: %w", inv.Status, ErrConflict)
		}
		now := s.now()
		if err := tx.UpdateInvoice(ctx, InvoiceUpdate{
			ID: inv.ID, FromStatus: InvoiceDraft, Status: InvoiceCancelled, Version: inv.Version + 1,
			Reason: reason, At: now, By: by,
		}); err != nil {
			return err
		}
		out, err = tx.GetInvoice(ctx, inv.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("discard draft %s: %w", invoiceID, err)
	}
	return out, nil
}

// CancelInvoiceParams cancels an issued invoice.
type CancelInvoiceParams struct {
	InvoiceID string
	Reason    string
	By        string
}

// CancelInvoice cancels an issued invoice by issuing a credit note with
// the negated lines, numbered in the facility's credit-note sequence. The
// credit note reverses the invoice's ledger entries, and the invoice's
// charges become open again. An invoice with payments or adjustments
// posted to it is rejected, because its balance no longer equals its
// total: refund or reverse those first.
func (s *Service) CancelInvoice(ctx context.Context, p CancelInvoiceParams) (credit *Invoice, err error) {
	if err := requireBy("cancel invoice", p.By); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Reason) == "" {
		return nil, invalidf("cancel invoice %s: Reason is missing", p.InvoiceID)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		inv, err := tx.GetInvoice(ctx, p.InvoiceID)
		if err != nil {
			return err
		}
		if inv.Kind != KindInvoice || (inv.Status != InvoiceIssued && inv.Status != InvoiceBalanced) {
			return fmt.Errorf("%s %s is %s and cannot be cancelled: %w", inv.Kind, inv.ID, inv.Status, ErrConflict)
		}
		now := s.now()
		issued := issueEntries(inv, now, p.By)
		var owed int64
		for _, e := range issued {
			if e.Debit == BookReceivable {
				owed += e.Amount.Amount
			} else if e.Credit == BookReceivable {
				owed -= e.Amount.Amount
			}
		}
		if inv.Balance.Amount != owed {
			return fmt.Errorf("invoice %s has payments or adjustments posted (balance %s of %s): %w",
				inv.ID, inv.Balance, Money{Amount: owed, Currency: inv.Currency}, ErrConflict)
		}
		cn := s.creditNote(inv, p, now)
		if err := tx.InsertInvoice(ctx, *cn); err != nil {
			return err
		}
		number, err := tx.NextNumber(ctx, cn.FacilityID, KindCreditNote)
		if err != nil {
			return err
		}
		if err := tx.UpdateInvoice(ctx, InvoiceUpdate{
			ID: cn.ID, FromStatus: InvoiceDraft, Status: InvoiceIssued, Version: 2, Number: number, At: now, By: p.By,
		}); err != nil {
			return err
		}
		if err := tx.UpdateInvoice(ctx, InvoiceUpdate{
			ID: inv.ID, FromStatus: inv.Status, Status: InvoiceCancelled, Version: inv.Version + 1,
			CreditedBy: cn.ID, Reason: p.Reason, At: now, By: p.By,
		}); err != nil {
			return err
		}
		reversing := make([]Entry, len(issued))
		for i, e := range issued {
			e.Debit, e.Credit = e.Credit, e.Debit
			e.JournalID, e.Kind, e.Memo = "credit-"+cn.ID, EntryCreditNote, "credit note "+cn.ID
			reversing[i] = e
		}
		if err := tx.Post(ctx, reversing); err != nil {
			return err
		}
		if credit, err = tx.GetInvoice(ctx, cn.ID); err != nil {
			return err
		}
		return emit(ctx, tx, now, EventInvoiceCanceled, inv.ID, inv.Version+1, map[string]any{
			"credit_note": cn.ID, "credit_note_number": number, "total_gross": moneyData(inv.TotalGross),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("cancel invoice %s: %w", p.InvoiceID, err)
	}
	return credit, nil
}

func (s *Service) creditNote(inv *Invoice, p CancelInvoiceParams, now time.Time) *Invoice {
	cn := &Invoice{
		ID: s.cfg.NewID(), Kind: KindCreditNote, AccountID: inv.AccountID, FacilityID: inv.FacilityID,
		Status: InvoiceDraft, Currency: inv.Currency, Credits: inv.ID, Version: 1, Created: now, Updated: now,
		UpdatedBy: p.By, Reason: p.Reason,
		TotalNet: inv.TotalNet.Neg(), TotalTax: inv.TotalTax.Neg(), TotalGross: inv.TotalGross.Neg(),
	}
	for _, l := range inv.Lines {
		l.Quantity = -l.Quantity
		l.Gross, l.Discount, l.Net, l.Tax, l.Total = l.Gross.Neg(), l.Discount.Neg(), l.Net.Neg(), l.Tax.Neg(), l.Total.Neg()
		cn.Lines = append(cn.Lines, l)
	}
	return cn
}

// GetInvoice returns an invoice with its lines and balance.
func (s *Service) GetInvoice(ctx context.Context, id string) (*Invoice, error) {
	return s.store.GetInvoice(ctx, id)
}

// ListInvoices returns the invoices that match f.
func (s *Service) ListInvoices(ctx context.Context, f InvoiceFilter) ([]Invoice, error) {
	return s.store.ListInvoices(ctx, f)
}

// InvoiceHistory returns every version of an invoice, oldest first.
func (s *Service) InvoiceHistory(ctx context.Context, id string) ([]InvoiceVersion, error) {
	return s.store.InvoiceHistory(ctx, id)
}
