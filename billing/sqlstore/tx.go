package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/storage"
)

// outboxLock is the PostgreSQL advisory lock key that orders outbox
// writes: a transaction takes it just before inserting its events and
// holds it until it commits.
const outboxLock = 0xb111ed

// txn is a billing.Tx.
type txn struct {
	c      conn
	events []billing.Event
}

var _ billing.Tx = (*txn)(nil)

func (t *txn) GetChargeDefinition(ctx context.Context, code string, version int64) (*billing.ChargeDefinition, error) {
	return getDefinition(ctx, t.c, code, version)
}

func (t *txn) PutChargeDefinition(ctx context.Context, d billing.ChargeDefinition) error {
	prices, err := json.Marshal(d.Prices)
	if err != nil {
		return fmt.Errorf("encode prices of %s: %w", d.Code, err)
	}
	_, err = t.c.exec(ctx, `INSERT INTO billing_charge_definitions (`+definitionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.Code, d.Version, d.System, d.Display, int64(d.TaxRate),
		string(prices), d.Active, micros(d.Updated), d.UpdatedBy)
	if err != nil {
		return fmt.Errorf("put charge definition %s version %d: %w", d.Code, d.Version, err)
	}
	return nil
}

func (t *txn) GetAccount(ctx context.Context, id string) (*billing.Account, error) {
	return getAccount(ctx, t.c, id)
}

func (t *txn) ListAccounts(ctx context.Context, f billing.AccountFilter) ([]billing.Account, error) {
	return listAccounts(ctx, t.c, f)
}

func (t *txn) PutAccount(ctx context.Context, a billing.Account) error {
	guarantors, err := json.Marshal(nonNil(a.Guarantors))
	if err != nil {
		return err
	}
	coverages, err := json.Marshal(nonNil(a.Coverages))
	if err != nil {
		return err
	}
	identifiers, err := encodeIdentifiers(a.Identifiers)
	if err != nil {
		return err
	}

	if a.Version == 1 {
		_, err = t.c.exec(ctx, `INSERT INTO billing_accounts (`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Version, a.PatientID, a.EncounterID, a.Currency, string(a.Status), string(guarantors),
			string(coverages), micros(a.Created), micros(a.Updated), a.UpdatedBy, identifiers)
	} else {
		var res interface{ RowsAffected() (int64, error) }
		res, err = t.c.exec(ctx, `UPDATE billing_accounts SET version = ?, status = ?, guarantors = ?, coverages = ?,
			updated_at = ?, updated_by = ?, identifiers = ? WHERE id = ? AND version = ?`, a.Version, string(a.Status),
			string(guarantors), string(coverages), micros(a.Updated), a.UpdatedBy, identifiers, a.ID, a.Version-1)
		if err == nil {
			if n, _ := res.RowsAffected(); n == 0 {
				err = fmt.Errorf("stored version is not %d: %w", a.Version-1, billing.ErrConflict)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("put account %s: %w", a.ID, err)
	}

	if err := t.putIdentifiers(ctx, identifiersOfAccount, a.ID, a.Identifiers, a.Version > 1); err != nil {
		return err
	}

	snapshot, _ := json.Marshal(map[string]any{
		"status": a.Status, "guarantors": json.RawMessage(guarantors), "coverages": json.RawMessage(coverages),
		"identifiers": json.RawMessage(identifiers),
	})
	_, err = t.c.exec(ctx, `INSERT INTO billing_account_history (account_id, version, snapshot, changed_at, changed_by)
		VALUES (?, ?, ?, ?, ?)`, a.ID, a.Version, string(snapshot), micros(a.Updated), a.UpdatedBy)
	if err != nil {
		return fmt.Errorf("record version %d of account %s: %w", a.Version, a.ID, err)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (t *txn) GetCharge(ctx context.Context, id string) (*billing.Charge, error) {
	return getCharge(ctx, t.c, id)
}

func (t *txn) ChargeBySource(ctx context.Context, source, eventID string) (*billing.Charge, error) {
	var row chargeRow
	err := t.c.get(ctx, &row, chargeSelect+` WHERE c.source = ? AND c.source_event_id = ?`, source, eventID)
	if err != nil {
		return nil, notFound("charge for event", source+" "+eventID, err)
	}
	c, err := row.charge()
	return &c, err
}

func (t *txn) ListCharges(ctx context.Context, f billing.ChargeFilter) ([]billing.Charge, error) {
	return listCharges(ctx, t.c, f)
}

func (t *txn) InsertCharge(ctx context.Context, c billing.Charge) error {
	var reverses any
	if c.Reverses != "" {
		reverses = c.Reverses
	}
	identifiers, err := encodeIdentifiers(c.Identifiers)
	if err != nil {
		return err
	}
	_, err = t.c.exec(ctx, `INSERT INTO billing_charges (id, account_id, code, system, display, definition_version,
		quantity, unit_price, currency, discount_ppm, tax_ppm, factor_ppm, override_reason, source, source_event_id,
		reason, reverses, service_date, entered_at, entered_by, identifiers)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.AccountID, c.Code, c.System, c.Display, c.DefinitionVersion, c.Quantity, c.UnitPrice.Amount,
		c.UnitPrice.Currency, int64(c.Discount), int64(c.TaxRate), int64(c.Factor), c.OverrideReason, c.Source,
		c.SourceEventID, c.Reason, reverses, micros(c.ServiceDate), micros(c.Entered), c.EnteredBy, identifiers)
	if err != nil {
		return fmt.Errorf("insert charge %s: %w", c.ID, err)
	}
	return t.putIdentifiers(ctx, identifiersOfCharge, c.ID, c.Identifiers, false)
}

func (t *txn) InsertInvoice(ctx context.Context, inv billing.Invoice) error {
	identifiers, err := encodeIdentifiers(inv.Identifiers)
	if err != nil {
		return err
	}
	_, err = t.c.exec(ctx, `INSERT INTO billing_invoices (`+invoiceColumns+`)
		VALUES (?, ?, ?, ?, ?, 0, 'draft', ?, ?, ?, ?, ?, '', 0, '', ?, ?, ?, ?, ?)`,
		inv.ID, string(inv.Kind), inv.Version, inv.AccountID, inv.FacilityID, inv.Currency, inv.TotalNet.Amount,
		inv.TotalTax.Amount, inv.TotalGross.Amount, inv.Credits, inv.Reason, micros(inv.Created),
		micros(inv.Updated), inv.UpdatedBy, identifiers)
	if err != nil {
		return fmt.Errorf("insert invoice %s: %w", inv.ID, err)
	}
	if err := t.putIdentifiers(ctx, identifiersOfInvoice, inv.ID, inv.Identifiers, false); err != nil {
		return err
	}
	// Batches of 60 lines stay below SQLite's limit on bound values.
	for start := 0; start < len(inv.Lines); start += 60 {
		batch := inv.Lines[start:min(start+60, len(inv.Lines))]
		rows := make([]string, len(batch))
		args := make([]any, 0, 14*len(batch))
		for i, l := range batch {
			rows[i] = "(" + in(14) + ")"
			args = append(args, inv.ID, l.Sequence, l.ChargeID, l.Code, l.System, l.Display, l.Quantity,
				l.UnitPrice.Amount, int64(l.TaxRate), l.Gross.Amount, l.Discount.Amount, l.Net.Amount, l.Tax.Amount, l.Total.Amount)
		}
		if _, err := t.c.exec(ctx, `INSERT INTO billing_invoice_lines (`+lineColumns+`) VALUES `+strings.Join(rows, ", "), args...); err != nil {
			return fmt.Errorf("insert lines of invoice %s: %w", inv.ID, err)
		}
		if inv.Kind != billing.KindInvoice {
			continue
		}
		holds := make([]string, len(batch))
		hargs := make([]any, 0, 2*len(batch))
		for i, l := range batch {
			holds[i] = "(?, ?)"
			hargs = append(hargs, l.ChargeID, inv.ID)
		}
		if _, err := t.c.exec(ctx, `INSERT INTO billing_invoiced_charges (charge_id, invoice_id) VALUES `+strings.Join(holds, ", "), hargs...); err != nil {
			return fmt.Errorf("hold charges for invoice %s: %w", inv.ID, err)
		}
	}
	return t.history(ctx, inv.ID, inv.Version, billing.InvoiceDraft, 0, "drafted", inv.Created.UnixMicro(), inv.UpdatedBy)
}

func (t *txn) history(ctx context.Context, id string, version int64, status billing.InvoiceStatus, number int64, reason string, at int64, by string) error {
	_, err := t.c.exec(ctx, `INSERT INTO billing_invoice_history (invoice_id, version, status, number, reason, changed_at, changed_by)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, version, string(status), number, reason, at, by)
	if err != nil {
		return fmt.Errorf("record version %d of invoice %s: %w", version, id, err)
	}
	return nil
}

func (t *txn) GetInvoice(ctx context.Context, id string) (*billing.Invoice, error) {
	return getInvoice(ctx, t.c, id)
}

func (t *txn) ListInvoices(ctx context.Context, f billing.InvoiceFilter) ([]billing.Invoice, error) {
	return listInvoices(ctx, t.c, f)
}

// UpdateInvoice guards on status and version. Issuing also requires the
// stored totals to equal the sums of the stored lines, checked by the
// database in the same statement.
func (t *txn) UpdateInvoice(ctx context.Context, u billing.InvoiceUpdate) error {
	set := `status = ?, version = ?, updated_at = ?, updated_by = ?`
	args := []any{string(u.Status), u.Version, micros(u.At), u.By}
	guard := `id = ? AND status = ? AND version = ?`
	gargs := []any{u.ID, string(u.FromStatus), u.Version - 1}

	if u.Status == billing.InvoiceIssued {
		set += `, number = ?, issued_at = ?, issued_by = ?`
		args = append(args, u.Number, micros(u.At), u.By)
		guard += ` AND total_net = (SELECT COALESCE(SUM(net), 0) FROM billing_invoice_lines WHERE invoice_id = ?)
			AND total_tax = (SELECT COALESCE(SUM(tax), 0) FROM billing_invoice_lines WHERE invoice_id = ?)`
		gargs = append(gargs, u.ID, u.ID)
	}
	if u.CreditedBy != "" {
		set, args = set+`, credited_by = ?`, append(args, u.CreditedBy)
	}
	if u.Reason != "" && u.Status == billing.InvoiceCancelled {
		set, args = set+`, reason = ?`, append(args, u.Reason)
	}

	res, err := t.c.exec(ctx, `UPDATE billing_invoices SET `+set+` WHERE `+guard, append(args, gargs...)...)
	if err != nil {
		return fmt.Errorf("update invoice %s: %w", u.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update invoice %s: not %s at version %d, or totals differ from its lines: %w",
			u.ID, u.FromStatus, u.Version-1, billing.ErrConflict)
	}

	if u.Status == billing.InvoiceCancelled {
		if _, err := t.c.exec(ctx, `DELETE FROM billing_invoiced_charges WHERE invoice_id = ?`, u.ID); err != nil {
			return fmt.Errorf("release charges of invoice %s: %w", u.ID, err)
		}
	}
	return t.history(ctx, u.ID, u.Version, u.Status, u.Number, u.Reason, micros(u.At), u.By)
}

func (t *txn) NextNumber(ctx context.Context, facilityID string, kind billing.InvoiceKind) (int64, error) {
	var n int64
	err := t.c.get(ctx, &n, `INSERT INTO billing_number_sequences (facility_id, kind, last_number) VALUES (?, ?, 1)
		ON CONFLICT (facility_id, kind) DO UPDATE SET last_number = billing_number_sequences.last_number + 1
		RETURNING last_number`, facilityID, string(kind))
	if err != nil {
		return 0, fmt.Errorf("next %s number of facility %s: %w", kind, facilityID, err)
	}
	return n, nil
}

// Post inserts the entries and moves the receivable and unapplied
// balances they touch. Decrements are guarded updates, so a balance
// never goes below zero even when the service's own check raced.
func (t *txn) Post(ctx context.Context, entries []billing.Entry) error {
	for _, e := range entries {
		if e.Amount.Amount <= 0 {
			return fmt.Errorf("post %s entry: amount %d is not positive: %w", e.Kind, e.Amount.Amount, billing.ErrInvalid)
		}
		_, err := t.c.exec(ctx, `INSERT INTO billing_ledger_entries (journal_id, kind, debit_book, credit_book, amount,
			currency, account_id, invoice_id, payment_id, posted_at, posted_by, memo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.JournalID, string(e.Kind), string(e.Debit), string(e.Credit), e.Amount.Amount, e.Amount.Currency,
			e.AccountID, e.InvoiceID, e.PaymentID, micros(e.Posted), e.PostedBy, e.Memo)
		if err != nil {
			return fmt.Errorf("post %s entry of journal %s: %w", e.Kind, e.JournalID, err)
		}
		for _, side := range []struct {
			book  billing.Book
			debit bool
		}{{e.Debit, true}, {e.Credit, false}} {
			owner := ""
			switch side.book {
			case billing.BookReceivable:
				owner = e.InvoiceID
			case billing.BookUnapplied:
				owner = e.AccountID
			default:
				continue
			}
			// A debit raises a receivable and lowers unapplied money.
			raise := side.debit == (side.book == billing.BookReceivable)
			if err := t.move(ctx, side.book, owner, e.Amount, raise); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *txn) move(ctx context.Context, book billing.Book, owner string, m billing.Money, raise bool) error {
	if raise {
		// The WHERE clause leaves a balance in another currency unchanged,
		// and no row is affected.
		res, err := t.c.exec(ctx, `INSERT INTO billing_balances (book, owner_id, currency, amount) VALUES (?, ?, ?, ?)
			ON CONFLICT (book, owner_id) DO UPDATE SET amount = billing_balances.amount + excluded.amount
			WHERE billing_balances.currency = excluded.currency`,
			string(book), owner, m.Currency, m.Amount)
		if err != nil {
			return fmt.Errorf("raise %s balance of %s: %w", book, owner, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("raise %s balance of %s by %s: the balance is in another currency: %w",
				book, owner, m, billing.ErrCurrencyMismatch)
		}
		return nil
	}
	res, err := t.c.exec(ctx, `UPDATE billing_balances SET amount = amount - ?
		WHERE book = ? AND owner_id = ? AND currency = ? AND amount >= ?`, m.Amount, string(book), owner, m.Currency, m.Amount)
	if err != nil {
		if errors.Is(err, billing.ErrInvalid) {
			return fmt.Errorf("lower %s balance of %s: %w", book, owner, billing.ErrOverpayment)
		}
		return fmt.Errorf("lower %s balance of %s: %w", book, owner, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s balance of %s is below %s: %w", book, owner, m, billing.ErrOverpayment)
	}
	return nil
}

func (t *txn) balance(ctx context.Context, book billing.Book, owner, currency string) (billing.Money, error) {
	var amounts []int64
	err := t.c.sel(ctx, &amounts, `SELECT amount FROM billing_balances WHERE book = ? AND owner_id = ?`, string(book), owner)
	if err != nil {
		return billing.Money{}, fmt.Errorf("read %s balance of %s: %w", book, owner, err)
	}
	m := billing.Money{Currency: currency}
	if len(amounts) == 1 {
		m.Amount = amounts[0]
	}
	return m, nil
}

func (t *txn) InvoiceBalance(ctx context.Context, invoiceID, currency string) (billing.Money, error) {
	return t.balance(ctx, billing.BookReceivable, invoiceID, currency)
}

func (t *txn) AccountCredit(ctx context.Context, accountID, currency string) (billing.Money, error) {
	return t.balance(ctx, billing.BookUnapplied, accountID, currency)
}

func (t *txn) InsertPayment(ctx context.Context, p billing.Payment) error {
	allocs, err := json.Marshal(nonNil(p.Allocations))
	if err != nil {
		return err
	}
	_, err = t.c.exec(ctx, `INSERT INTO billing_payments (`+paymentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, string(p.Kind), p.AccountID, p.Amount.Amount, p.Amount.Currency, p.Unapplied.Amount, p.Payer, p.Method,
		p.Reference, p.ClaimID, string(allocs), micros(p.Received), micros(p.Posted), p.PostedBy)
	if err != nil {
		return fmt.Errorf("insert payment %s: %w", p.ID, err)
	}
	return nil
}

func (t *txn) GetClaim(ctx context.Context, id string) (*billing.Claim, error) {
	return getClaim(ctx, t.c, id)
}

func (t *txn) ListClaims(ctx context.Context, f billing.ClaimFilter) ([]billing.Claim, error) {
	return listClaims(ctx, t.c, f)
}

func (t *txn) PutClaim(ctx context.Context, c billing.Claim) error {
	body, err := json.Marshal(claimBody{Coverage: c.Coverage, Diagnoses: c.Diagnoses, Lines: c.Lines})
	if err != nil {
		return err
	}
	if c.Version == 1 {
		_, err = t.c.exec(ctx, `INSERT INTO billing_claims (`+claimColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Version, c.AccountID, c.InvoiceID, c.PatientID, string(c.Status), c.Total.Currency, c.Total.Amount,
			c.Paid.Amount, c.Adjusted.Amount, c.PatientResponsibility.Amount, string(body), c.RecordID, c.Reason,
			micros(c.Created), micros(c.Updated), c.UpdatedBy)
	} else {
		var res interface{ RowsAffected() (int64, error) }
		res, err = t.c.exec(ctx, `UPDATE billing_claims SET version = ?, status = ?, paid = ?, adjusted = ?,
			patient_responsibility = ?, record_id = ?, reason = ?, updated_at = ?, updated_by = ?
			WHERE id = ? AND version = ?`, c.Version, string(c.Status), c.Paid.Amount, c.Adjusted.Amount,
			c.PatientResponsibility.Amount, c.RecordID, c.Reason, micros(c.Updated), c.UpdatedBy, c.ID, c.Version-1)
		if err == nil {
			if n, _ := res.RowsAffected(); n == 0 {
				err = fmt.Errorf("stored version is not %d: %w", c.Version-1, billing.ErrConflict)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("put claim %s: %w", c.ID, err)
	}
	_, err = t.c.exec(ctx, `INSERT INTO billing_claim_history (claim_id, version, status, reason, changed_at, changed_by)
		VALUES (?, ?, ?, ?, ?, ?)`, c.ID, c.Version, string(c.Status), c.Reason, micros(c.Updated), c.UpdatedBy)
	if err != nil {
		return fmt.Errorf("record version %d of claim %s: %w", c.Version, c.ID, err)
	}
	return nil
}

// InsertRemittanceAdvice relies on the primary key of
// billing_remittance_advices. On PostgreSQL a concurrent insert of the
// same key waits for the first transaction and fails once it commits.
func (t *txn) InsertRemittanceAdvice(ctx context.Context, a billing.RemittanceAdvice) error {
	_, err := t.c.exec(ctx, `INSERT INTO billing_remittance_advices (payer_id, reference, claims, received_at, posted_at, posted_by)
		VALUES (?, ?, ?, ?, ?, ?)`, a.PayerID, a.Reference, a.Claims, micros(a.Received), micros(a.Posted), a.PostedBy)
	if errors.Is(err, billing.ErrConflict) && !errors.Is(err, billing.ErrTransient) {
		return fmt.Errorf("payment %s of payer %s: %w", a.Reference, a.PayerID, billing.ErrDuplicateRemittance)
	}
	if err != nil {
		return fmt.Errorf("insert remittance advice %s of payer %s: %w", a.Reference, a.PayerID, err)
	}
	return nil
}

// AdvanceSourcePosition upserts the position, and the WHERE clause of
// the upsert keeps a lower position from moving it back.
func (t *txn) AdvanceSourcePosition(ctx context.Context, source string, position int64, at time.Time) error {
	_, err := t.c.exec(ctx, `INSERT INTO billing_source_positions (source, position, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
		WHERE billing_source_positions.position < excluded.position`, source, position, micros(at))
	if err != nil {
		return fmt.Errorf("advance position of source %s to %d: %w", source, position, err)
	}
	return nil
}

// Emit buffers the event; InTx writes it just before commit.
func (t *txn) Emit(ctx context.Context, e billing.Event) error {
	if e.Type == "" {
		return errors.New("emit: event type is empty")
	}
	t.events = append(t.events, e)
	return nil
}

func (t *txn) flushEvents(ctx context.Context) error {
	if len(t.events) == 0 {
		return nil
	}
	if t.c.dialect == storage.Postgres {
		if _, err := t.c.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, outboxLock); err != nil {
			return fmt.Errorf("lock outbox: %w", err)
		}
	}
	for _, e := range t.events {
		data := string(e.Data)
		if data == "" {
			data = "{}"
		}
		_, err := t.c.exec(ctx, `INSERT INTO billing_outbox (event_type, subject_id, version, created_at, data)
			VALUES (?, ?, ?, ?, ?)`, e.Type, e.Subject, e.Version, micros(e.Time), data)
		if err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
	}
	t.events = nil
	return nil
}
