package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nexus-health-360/nexus/billing"
)

type invoiceRow struct {
	ID          string `db:"id"`
	Kind        string `db:"kind"`
	Version     int64  `db:"version"`
	AccountID   string `db:"account_id"`
	FacilityID  string `db:"facility_id"`
	Number      int64  `db:"number"`
	Status      string `db:"status"`
	Currency    string `db:"currency"`
	TotalNet    int64  `db:"total_net"`
	TotalTax    int64  `db:"total_tax"`
	TotalGross  int64  `db:"total_gross"`
	Credits     string `db:"credits"`
	CreditedBy  string `db:"credited_by"`
	IssuedAt    int64  `db:"issued_at"`
	IssuedBy    string `db:"issued_by"`
	Reason      string `db:"reason"`
	CreatedAt   int64  `db:"created_at"`
	UpdatedAt   int64  `db:"updated_at"`
	UpdatedBy   string `db:"updated_by"`
	Balance     int64  `db:"balance"`
	Identifiers string `db:"identifiers"`
}

const invoiceColumns = `id, kind, version, account_id, facility_id, number, status, currency, total_net, total_tax,
	total_gross, credits, credited_by, issued_at, issued_by, reason, created_at, updated_at, updated_by, identifiers`

const invoiceSelect = `SELECT i.id, i.kind, i.version, i.account_id, i.facility_id, i.number, i.status, i.currency,
	i.total_net, i.total_tax, i.total_gross, i.credits, i.credited_by, i.issued_at, i.issued_by, i.reason,
	i.created_at, i.updated_at, i.updated_by, i.identifiers,
	COALESCE((SELECT b.amount FROM billing_balances b WHERE b.book = 'receivable' AND b.owner_id = i.id), 0) AS balance
	FROM billing_invoices i`

func (r invoiceRow) invoice() (billing.Invoice, error) {
	m := func(v int64) billing.Money { return billing.Money{Amount: v, Currency: r.Currency} }
	inv := billing.Invoice{
		ID: r.ID, Kind: billing.InvoiceKind(r.Kind), Version: r.Version, AccountID: r.AccountID,
		FacilityID: r.FacilityID, Number: r.Number, Status: billing.InvoiceStatus(r.Status), Currency: r.Currency,
		TotalNet: m(r.TotalNet), TotalTax: m(r.TotalTax), TotalGross: m(r.TotalGross), Balance: m(r.Balance),
		Credits: r.Credits, CreditedBy: r.CreditedBy, Issued: fromMicros(r.IssuedAt), IssuedBy: r.IssuedBy,
		Reason: r.Reason, Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt), UpdatedBy: r.UpdatedBy,
	}
	var err error
	inv.Identifiers, err = decodeIdentifiers(r.Identifiers, "invoice "+r.ID)
	return inv, err
}

type lineRow struct {
	InvoiceID string `db:"invoice_id"`
	Sequence  int    `db:"sequence"`
	ChargeID  string `db:"charge_id"`
	Code      string `db:"code"`
	System    string `db:"system"`
	Display   string `db:"display"`
	Quantity  int64  `db:"quantity"`
	UnitPrice int64  `db:"unit_price"`
	TaxPPM    int64  `db:"tax_ppm"`
	Gross     int64  `db:"gross"`
	Discount  int64  `db:"discount"`
	Net       int64  `db:"net"`
	Tax       int64  `db:"tax"`
	Total     int64  `db:"total"`
}

const lineColumns = `invoice_id, sequence, charge_id, code, system, display, quantity, unit_price, tax_ppm,
	gross, discount, net, tax, total`

func (r lineRow) line(currency string) billing.InvoiceLine {
	m := func(v int64) billing.Money { return billing.Money{Amount: v, Currency: currency} }
	return billing.InvoiceLine{
		Sequence: r.Sequence, ChargeID: r.ChargeID, Code: r.Code, System: r.System, Display: r.Display,
		Quantity: r.Quantity, UnitPrice: m(r.UnitPrice), TaxRate: billing.Rate(r.TaxPPM),
		LineAmounts: billing.LineAmounts{Gross: m(r.Gross), Discount: m(r.Discount), Net: m(r.Net), Tax: m(r.Tax), Total: m(r.Total)},
	}
}

func getInvoice(ctx context.Context, c conn, id string) (*billing.Invoice, error) {
	if c.lock {
		// Lock the row first: FOR UPDATE cannot apply to the subquery.
		var locked string
		if err := c.get(ctx, &locked, `SELECT id FROM billing_invoices WHERE id = ? FOR UPDATE`, id); err != nil {
			return nil, notFound("invoice", id, err)
		}
	}
	var row invoiceRow
	if err := c.get(ctx, &row, invoiceSelect+` WHERE i.id = ?`, id); err != nil {
		return nil, notFound("invoice", id, err)
	}
	inv, err := row.invoice()
	if err != nil {
		return nil, err
	}
	if err := withLines(ctx, c, []*billing.Invoice{&inv}); err != nil {
		return nil, err
	}
	return &inv, nil
}

// withLines reads the lines of invoices.
func withLines(ctx context.Context, c conn, invoices []*billing.Invoice) error {
	if len(invoices) == 0 {
		return nil
	}
	byID := map[string]*billing.Invoice{}
	ids := make([]string, len(invoices))
	for i, inv := range invoices {
		byID[inv.ID], ids[i] = inv, inv.ID
	}
	for start := 0; start < len(ids); start += 300 {
		batch := ids[start:min(start+300, len(ids))]
		var rows []lineRow
		err := c.sel(ctx, &rows, `SELECT `+lineColumns+` FROM billing_invoice_lines WHERE invoice_id IN (`+
			in(len(batch))+`) ORDER BY invoice_id, sequence`, anyOf(batch)...)
		if err != nil {
			return fmt.Errorf("read invoice lines: %w", err)
		}
		for _, r := range rows {
			inv := byID[r.InvoiceID]
			inv.Lines = append(inv.Lines, r.line(inv.Currency))
		}
	}
	return nil
}

func (s *Store) GetInvoice(ctx context.Context, id string) (*billing.Invoice, error) {
	return getInvoice(ctx, s.reader(), id)
}

func (s *Store) ListInvoices(ctx context.Context, f billing.InvoiceFilter) ([]billing.Invoice, error) {
	return listInvoices(ctx, s.reader(), f)
}

// listInvoices reads without locking, in a transaction as on the pool.
func listInvoices(ctx context.Context, c conn, f billing.InvoiceFilter) ([]billing.Invoice, error) {
	var where []string
	var args []any
	if f.AccountID != "" {
		where, args = append(where, "i.account_id = ?"), append(args, f.AccountID)
	}
	if f.FacilityID != "" {
		where, args = append(where, "i.facility_id = ?"), append(args, f.FacilityID)
	}
	if f.Kind != "" {
		where, args = append(where, "i.kind = ?"), append(args, string(f.Kind))
	}
	if len(f.Statuses) > 0 {
		where, args = append(where, "i.status IN ("+in(len(f.Statuses))+")"), append(args, anyOf(f.Statuses)...)
	}
	if f.Identifier != nil {
		cond, cargs := identifierCondition(identifiersOfInvoice, "i.id", f.Identifier)
		where, args = append(where, cond), append(args, cargs...)
	}

	query := invoiceSelect + whereClause(where) + ` ORDER BY i.created_at, i.id` + limitClause(f.Limit)

	var rows []invoiceRow
	if err := c.sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list invoices: %w", err)
	}

	out := make([]billing.Invoice, len(rows))
	ptrs := make([]*billing.Invoice, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = r.invoice(); err != nil {
			return nil, err
		}
		ptrs[i] = &out[i]
	}

	if err := withLines(ctx, c, ptrs); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) InvoiceHistory(ctx context.Context, id string) ([]billing.InvoiceVersion, error) {
	var rows []struct {
		InvoiceID string `db:"invoice_id"`
		Version   int64  `db:"version"`
		Status    string `db:"status"`
		Number    int64  `db:"number"`
		Reason    string `db:"reason"`
		ChangedAt int64  `db:"changed_at"`
		ChangedBy string `db:"changed_by"`
	}
	err := s.reader().sel(ctx, &rows, `SELECT invoice_id, version, status, number, reason, changed_at, changed_by
		FROM billing_invoice_history WHERE invoice_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("read history of invoice %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("invoice %s: %w", id, billing.ErrNotFound)
	}
	out := make([]billing.InvoiceVersion, len(rows))
	for i, r := range rows {
		out[i] = billing.InvoiceVersion{
			InvoiceID: r.InvoiceID, Version: r.Version, Status: billing.InvoiceStatus(r.Status), Number: r.Number,
			Reason: r.Reason, Changed: fromMicros(r.ChangedAt), ChangedBy: r.ChangedBy,
		}
	}
	return out, nil
}

type entryRow struct {
	ID         int64  `db:"id"`
	JournalID  string `db:"journal_id"`
	Kind       string `db:"kind"`
	DebitBook  string `db:"debit_book"`
	CreditBook string `db:"credit_book"`
	Amount     int64  `db:"amount"`
	Currency   string `db:"currency"`
	AccountID  string `db:"account_id"`
	InvoiceID  string `db:"invoice_id"`
	PaymentID  string `db:"payment_id"`
	PostedAt   int64  `db:"posted_at"`
	PostedBy   string `db:"posted_by"`
	Memo       string `db:"memo"`
}

func (s *Store) ListEntries(ctx context.Context, f billing.EntryFilter) ([]billing.Entry, error) {
	var where []string
	var args []any
	if f.AccountID != "" {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	if f.InvoiceID != "" {
		where, args = append(where, "invoice_id = ?"), append(args, f.InvoiceID)
	}
	if f.PaymentID != "" {
		where, args = append(where, "payment_id = ?"), append(args, f.PaymentID)
	}
	if !f.From.IsZero() {
		where, args = append(where, "posted_at >= ?"), append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "posted_at < ?"), append(args, micros(f.To))
	}

	var rows []entryRow
	err := s.reader().sel(ctx, &rows, `SELECT id, journal_id, kind, debit_book, credit_book, amount, currency,
		account_id, invoice_id, payment_id, posted_at, posted_by, memo FROM billing_ledger_entries`+
		whereClause(where)+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list ledger entries: %w", err)
	}

	out := make([]billing.Entry, len(rows))
	for i, r := range rows {
		out[i] = billing.Entry{
			ID: r.ID, JournalID: r.JournalID, Kind: billing.EntryKind(r.Kind), Debit: billing.Book(r.DebitBook),
			Credit: billing.Book(r.CreditBook), Amount: billing.Money{Amount: r.Amount, Currency: r.Currency},
			AccountID: r.AccountID, InvoiceID: r.InvoiceID, PaymentID: r.PaymentID, Posted: fromMicros(r.PostedAt),
			PostedBy: r.PostedBy, Memo: r.Memo,
		}
	}
	return out, nil
}

type paymentRow struct {
	ID          string `db:"id"`
	Kind        string `db:"kind"`
	AccountID   string `db:"account_id"`
	Amount      int64  `db:"amount"`
	Currency    string `db:"currency"`
	Unapplied   int64  `db:"unapplied"`
	Payer       string `db:"payer"`
	Method      string `db:"method"`
	Reference   string `db:"reference"`
	ClaimID     string `db:"claim_id"`
	Allocations string `db:"allocations"`
	ReceivedAt  int64  `db:"received_at"`
	PostedAt    int64  `db:"posted_at"`
	PostedBy    string `db:"posted_by"`
}

const paymentColumns = `id, kind, account_id, amount, currency, unapplied, payer, method, reference, claim_id,
	allocations, received_at, posted_at, posted_by`

func (r paymentRow) payment() (billing.Payment, error) {
	p := billing.Payment{
		ID: r.ID, Kind: billing.PaymentKind(r.Kind), AccountID: r.AccountID,
		Amount: billing.Money{Amount: r.Amount, Currency: r.Currency}, Unapplied: billing.Money{Amount: r.Unapplied, Currency: r.Currency},
		Payer: r.Payer, Method: r.Method, Reference: r.Reference, ClaimID: r.ClaimID,
		Received: fromMicros(r.ReceivedAt), Posted: fromMicros(r.PostedAt), PostedBy: r.PostedBy,
	}
	if err := json.Unmarshal([]byte(r.Allocations), &p.Allocations); err != nil {
		return p, fmt.Errorf("decode allocations of payment %s: %w", r.ID, err)
	}
	return p, nil
}

func (s *Store) GetPayment(ctx context.Context, id string) (*billing.Payment, error) {
	var row paymentRow
	if err := s.reader().get(ctx, &row, `SELECT `+paymentColumns+` FROM billing_payments WHERE id = ?`, id); err != nil {
		return nil, notFound("payment", id, err)
	}
	p, err := row.payment()
	return &p, err
}

func (s *Store) ListPayments(ctx context.Context, f billing.PaymentFilter) ([]billing.Payment, error) {
	var where []string
	var args []any
	if f.AccountID != "" {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	if f.ClaimID != "" {
		where, args = append(where, "claim_id = ?"), append(args, f.ClaimID)
	}
	if !f.From.IsZero() {
		where, args = append(where, "received_at >= ?"), append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "received_at < ?"), append(args, micros(f.To))
	}

	query := `SELECT ` + paymentColumns + ` FROM billing_payments` + whereClause(where) + ` ORDER BY received_at, id` + limitClause(f.Limit)

	var rows []paymentRow
	if err := s.reader().sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}

	out := make([]billing.Payment, 0, len(rows))
	for _, r := range rows {
		p, err := r.payment()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

type claimRow struct {
	ID                    string `db:"id"`
	Version               int64  `db:"version"`
	AccountID             string `db:"account_id"`
	InvoiceID             string `db:"invoice_id"`
	PatientID             string `db:"patient_id"`
	Status                string `db:"status"`
	Currency              string `db:"currency"`
	Total                 int64  `db:"total"`
	Paid                  int64  `db:"paid"`
	Adjusted              int64  `db:"adjusted"`
	PatientResponsibility int64  `db:"patient_responsibility"`
	Body                  string `db:"body"`
	RecordID              string `db:"record_id"`
	Reason                string `db:"reason"`
	CreatedAt             int64  `db:"created_at"`
	UpdatedAt             int64  `db:"updated_at"`
	UpdatedBy             string `db:"updated_by"`
}

const claimColumns = `id, version, account_id, invoice_id, patient_id, status, currency, total, paid, adjusted,
	patient_responsibility, body, record_id, reason, created_at, updated_at, updated_by`

// claimBody is the JSON part of a claim row.
type claimBody struct {
	Coverage  billing.Coverage    `json:"coverage"`
	Diagnoses []billing.Diagnosis `json:"diagnoses"`
	Lines     []billing.ClaimLine `json:"lines"`
}

func (r claimRow) claim() (billing.Claim, error) {
	m := func(v int64) billing.Money { return billing.Money{Amount: v, Currency: r.Currency} }
	c := billing.Claim{
		ID: r.ID, Version: r.Version, AccountID: r.AccountID, InvoiceID: r.InvoiceID, PatientID: r.PatientID,
		Status: billing.ClaimStatus(r.Status), Total: m(r.Total), Paid: m(r.Paid), Adjusted: m(r.Adjusted),
		PatientResponsibility: m(r.PatientResponsibility), RecordID: r.RecordID, Reason: r.Reason,
		Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt), UpdatedBy: r.UpdatedBy,
	}
	var body claimBody
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		return c, fmt.Errorf("decode claim %s: %w", r.ID, err)
	}
	c.Coverage, c.Diagnoses, c.Lines = body.Coverage, body.Diagnoses, body.Lines
	for i := range c.Lines {
		c.Lines[i].ServiceDate = c.Lines[i].ServiceDate.UTC()
	}
	return c, nil
}

func getClaim(ctx context.Context, c conn, id string) (*billing.Claim, error) {
	var row claimRow
	if err := c.get(ctx, &row, `SELECT `+claimColumns+` FROM billing_claims WHERE id = ?`+c.forUpdate(), id); err != nil {
		return nil, notFound("claim", id, err)
	}
	cl, err := row.claim()
	return &cl, err
}

func listClaims(ctx context.Context, c conn, f billing.ClaimFilter) ([]billing.Claim, error) {
	var where []string
	var args []any
	if f.AccountID != "" {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	if f.InvoiceID != "" {
		where, args = append(where, "invoice_id = ?"), append(args, f.InvoiceID)
	}
	if len(f.Statuses) > 0 {
		where, args = append(where, "status IN ("+in(len(f.Statuses))+")"), append(args, anyOf(f.Statuses)...)
	}
	query := `SELECT ` + claimColumns + ` FROM billing_claims` + whereClause(where) + ` ORDER BY created_at, id` + limitClause(f.Limit)
	var rows []claimRow
	if err := c.sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list claims: %w", err)
	}
	out := make([]billing.Claim, 0, len(rows))
	for _, r := range rows {
		cl, err := r.claim()
		if err != nil {
			return nil, err
		}
		out = append(out, cl)
	}
	return out, nil
}

func (s *Store) GetClaim(ctx context.Context, id string) (*billing.Claim, error) {
	return getClaim(ctx, s.reader(), id)
}

func (s *Store) ListClaims(ctx context.Context, f billing.ClaimFilter) ([]billing.Claim, error) {
	return listClaims(ctx, s.reader(), f)
}

func (s *Store) SourcePosition(ctx context.Context, source string) (int64, error) {
	var positions []int64
	err := s.reader().sel(ctx, &positions, `SELECT position FROM billing_source_positions WHERE source = ?`, source)
	if err != nil {
		return 0, fmt.Errorf("read position of source %s: %w", source, err)
	}
	if len(positions) == 0 {
		return 0, nil
	}
	return positions[0], nil
}

func (s *Store) Events(ctx context.Context, after int64, limit int) ([]billing.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	var rows []struct {
		Position  int64  `db:"position"`
		EventType string `db:"event_type"`
		SubjectID string `db:"subject_id"`
		Version   int64  `db:"version"`
		CreatedAt int64  `db:"created_at"`
		Data      string `db:"data"`
	}
	err := s.reader().sel(ctx, &rows, `SELECT position, event_type, subject_id, version, created_at, data
		FROM billing_outbox WHERE position > ? ORDER BY position LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read billing events after %d: %w", after, err)
	}
	out := make([]billing.Event, len(rows))
	for i, r := range rows {
		out[i] = billing.Event{
			Position: r.Position, Type: r.EventType, Subject: r.SubjectID, Version: r.Version,
			Time: fromMicros(r.CreatedAt), Data: json.RawMessage(r.Data),
		}
	}
	return out, nil
}
