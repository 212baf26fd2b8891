package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/nexus-health-360/nexus/billing"
)

type definitionRow struct {
	Code      string `db:"code"`
	Version   int64  `db:"version"`
	System    string `db:"system"`
	Display   string `db:"display"`
	TaxPPM    int64  `db:"tax_ppm"`
	Prices    string `db:"prices"`
	Active    bool   `db:"active"`
	UpdatedAt int64  `db:"updated_at"`
	UpdatedBy string `db:"updated_by"`
}

const definitionColumns = `code, version, system, display, tax_ppm, prices, active, updated_at, updated_by`

func (r definitionRow) definition() (billing.ChargeDefinition, error) {
	d := billing.ChargeDefinition{
		Code: r.Code, Version: r.Version, System: r.System, Display: r.Display, TaxRate: billing.Rate(r.TaxPPM),
		Active: r.Active, Updated: fromMicros(r.UpdatedAt), UpdatedBy: r.UpdatedBy,
	}
	if err := json.Unmarshal([]byte(r.Prices), &d.Prices); err != nil {
		return d, fmt.Errorf("decode prices of %s version %d: %w", r.Code, r.Version, err)
	}
	return d, nil
}

func getDefinition(ctx context.Context, c conn, code string, version int64) (*billing.ChargeDefinition, error) {
	var row definitionRow
	var err error
	if version == 0 {
		err = c.get(ctx, &row, `SELECT `+definitionColumns+` FROM billing_charge_definitions
			WHERE code = ? ORDER BY version DESC LIMIT 1`, code)
	} else {
		err = c.get(ctx, &row, `SELECT `+definitionColumns+` FROM billing_charge_definitions
			WHERE code = ? AND version = ?`, code, version)
	}
	if err != nil {
		return nil, notFound("charge definition", code, err)
	}
	d, err := row.definition()
	return &d, err
}

func (s *Store) GetChargeDefinition(ctx context.Context, code string, version int64) (*billing.ChargeDefinition, error) {
	return getDefinition(ctx, s.reader(), code, version)
}

func (s *Store) ListChargeDefinitions(ctx context.Context) ([]billing.ChargeDefinition, error) {
	var rows []definitionRow
	err := s.reader().sel(ctx, &rows, `SELECT `+definitionColumns+` FROM billing_charge_definitions d
		WHERE version = (SELECT MAX(version) FROM billing_charge_definitions m WHERE m.code = d.code) ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list charge definitions: %w", err)
	}
	out := make([]billing.ChargeDefinition, 0, len(rows))
	for _, r := range rows {
		d, err := r.definition()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

type accountRow struct {
	ID          string `db:"id"`
	Version     int64  `db:"version"`
	PatientID   string `db:"patient_id"`
	EncounterID string `db:"encounter_id"`
	Currency    string `db:"currency"`
	Status      string `db:"status"`
	Guarantors  string `db:"guarantors"`
	Coverages   string `db:"coverages"`
	CreatedAt   int64  `db:"created_at"`
	UpdatedAt   int64  `db:"updated_at"`
	UpdatedBy   string `db:"updated_by"`
	Identifiers string `db:"identifiers"`
}

const accountColumns = `id, version, patient_id, encounter_id, currency, status, guarantors, coverages, created_at, updated_at, updated_by, identifiers`

func (r accountRow) account() (billing.Account, error) {
	a := billing.Account{
		ID: r.ID, Version: r.Version, PatientID: r.PatientID, EncounterID: r.EncounterID, Currency: r.Currency,
		Status: billing.AccountStatus(r.Status), Created: fromMicros(r.CreatedAt), Updated: fromMicros(r.UpdatedAt),
		UpdatedBy: r.UpdatedBy,
	}
	if err := json.Unmarshal([]byte(r.Guarantors), &a.Guarantors); err != nil {
		return a, fmt.Errorf("decode guarantors of account %s: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Coverages), &a.Coverages); err != nil {
		return a, fmt.Errorf("decode coverages of account %s: %w", r.ID, err)
	}
	var err error
	a.Identifiers, err = decodeIdentifiers(r.Identifiers, "account "+r.ID)
	return a, err
}

func getAccount(ctx context.Context, c conn, id string) (*billing.Account, error) {
	var row accountRow
	if err := c.get(ctx, &row, `SELECT `+accountColumns+` FROM billing_accounts WHERE id = ?`+c.forUpdate(), id); err != nil {
		return nil, notFound("account", id, err)
	}
	a, err := row.account()
	return &a, err
}

func listAccounts(ctx context.Context, c conn, f billing.AccountFilter) ([]billing.Account, error) {
	var where []string
	var args []any
	if f.PatientID != "" {
		where, args = append(where, "patient_id = ?"), append(args, f.PatientID)
	}
	switch {
	case f.EncounterID != "":
		where, args = append(where, "encounter_id = ?"), append(args, f.EncounterID)
	case f.NoEncounter:
		where = append(where, "encounter_id = ''")
	}
	if f.Identifier != nil {
		cond, cargs := identifierCondition(identifiersOfAccount, "billing_accounts.id", f.Identifier)
		where, args = append(where, cond), append(args, cargs...)
	}

	query := `SELECT ` + accountColumns + ` FROM billing_accounts` + whereClause(where) + ` ORDER BY created_at, id` + limitClause(f.Limit)

	var rows []accountRow
	if err := c.sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}

	out := make([]billing.Account, 0, len(rows))
	for _, r := range rows {
		a, err := r.account()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// limitClause returns the LIMIT clause for at most n rows, or no clause
// when n is 0 or less.
func limitClause(n int) string {
	if n <= 0 {
		return ""
	}
	return " LIMIT " + strconv.Itoa(n)
}

func (s *Store) GetAccount(ctx context.Context, id string) (*billing.Account, error) {
	return getAccount(ctx, s.reader(), id)
}

func (s *Store) ListAccounts(ctx context.Context, f billing.AccountFilter) ([]billing.Account, error) {
	return listAccounts(ctx, s.reader(), f)
}

type chargeRow struct {
	ID                string  `db:"id"`
	AccountID         string  `db:"account_id"`
	Code              string  `db:"code"`
	System            string  `db:"system"`
	Display           string  `db:"display"`
	DefinitionVersion int64   `db:"definition_version"`
	Quantity          int64   `db:"quantity"`
	UnitPrice         int64   `db:"unit_price"`
	Currency          string  `db:"currency"`
	DiscountPPM       int64   `db:"discount_ppm"`
	TaxPPM            int64   `db:"tax_ppm"`
	FactorPPM         int64   `db:"factor_ppm"`
	OverrideReason    string  `db:"override_reason"`
	Source            string  `db:"source"`
	SourceEventID     string  `db:"source_event_id"`
	Reason            string  `db:"reason"`
	Reverses          *string `db:"reverses"`
	ReversedBy        *string `db:"reversed_by"`
	ServiceDate       int64   `db:"service_date"`
	EnteredAt         int64   `db:"entered_at"`
	EnteredBy         string  `db:"entered_by"`
	InvoiceID         *string `db:"invoice_id"`
	InvoiceStatus     *string `db:"invoice_status"`
	Identifiers       string  `db:"identifiers"`
}

// chargeSelect reads charges with the reversal and the holding invoice
// joined in, from which the status follows.
const chargeSelect = `SELECT c.id, c.account_id, c.code, c.system, c.display, c.definition_version, c.quantity,
	c.unit_price, c.currency, c.discount_ppm, c.tax_ppm, c.factor_ppm, c.override_reason, c.source,
	c.source_event_id, c.reason, c.reverses, r.id AS reversed_by, c.service_date, c.entered_at, c.entered_by,
	h.invoice_id, i.status AS invoice_status, c.identifiers
	FROM billing_charges c
	LEFT JOIN billing_charges r ON r.reverses = c.id
	LEFT JOIN billing_invoiced_charges h ON h.charge_id = c.id
	LEFT JOIN billing_invoices i ON i.id = h.invoice_id`

func (r chargeRow) charge() (billing.Charge, error) {
	c := billing.Charge{
		ID: r.ID, AccountID: r.AccountID, Code: r.Code, System: r.System, Display: r.Display,
		DefinitionVersion: r.DefinitionVersion, Quantity: r.Quantity,
		UnitPrice: billing.Money{Amount: r.UnitPrice, Currency: r.Currency}, Discount: billing.Rate(r.DiscountPPM),
		TaxRate: billing.Rate(r.TaxPPM), Factor: billing.Rate(r.FactorPPM), OverrideReason: r.OverrideReason,
		Source: r.Source, SourceEventID: r.SourceEventID, Reason: r.Reason, ServiceDate: fromMicros(r.ServiceDate),
		Entered: fromMicros(r.EnteredAt), EnteredBy: r.EnteredBy, Status: billing.ChargeBillable,
	}
	if r.Reverses != nil {
		c.Reverses = *r.Reverses
	}
	if r.ReversedBy != nil {
		c.ReversedBy = *r.ReversedBy
	}
	switch {
	case r.InvoiceID != nil:
		c.InvoiceID = *r.InvoiceID
		if r.InvoiceStatus != nil && *r.InvoiceStatus != string(billing.InvoiceDraft) {
			c.Status = billing.ChargeBilled
		}
	case c.Reverses != "" || c.ReversedBy != "":
		c.Status = billing.ChargeReversed
	}
	var err error
	c.Identifiers, err = decodeIdentifiers(r.Identifiers, "charge "+r.ID)
	return c, err
}

func getCharge(ctx context.Context, c conn, id string) (*billing.Charge, error) {
	var row chargeRow
	if err := c.get(ctx, &row, chargeSelect+` WHERE c.id = ?`, id); err != nil {
		return nil, notFound("charge", id, err)
	}
	ch, err := row.charge()
	return &ch, err
}

func listCharges(ctx context.Context, c conn, f billing.ChargeFilter) ([]billing.Charge, error) {
	var where []string
	var args []any
	if f.AccountID != "" {
		where, args = append(where, "c.account_id = ?"), append(args, f.AccountID)
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return nil, nil
		}
		where, args = append(where, "c.id IN ("+in(len(f.IDs))+")"), append(args, anyOf(f.IDs)...)
	}
	if f.OpenOnly {
		where = append(where, "h.invoice_id IS NULL")
	}
	if f.InvoiceID != "" {
		where = append(where, "c.id IN (SELECT charge_id FROM billing_invoice_lines WHERE invoice_id = ?)")
		args = append(args, f.InvoiceID)
	}
	if f.Identifier != nil {
		cond, cargs := identifierCondition(identifiersOfCharge, "c.id", f.Identifier)
		where, args = append(where, cond), append(args, cargs...)
	}

	query := chargeSelect + whereClause(where) + ` ORDER BY c.entered_at, c.id` + limitClause(f.Limit)

	var rows []chargeRow
	if err := c.sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list charges: %w", err)
	}

	out := make([]billing.Charge, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = r.charge(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) GetCharge(ctx context.Context, id string) (*billing.Charge, error) {
	return getCharge(ctx, s.reader(), id)
}

func (s *Store) ListCharges(ctx context.Context, f billing.ChargeFilter) ([]billing.Charge, error) {
	return listCharges(ctx, s.reader(), f)
}
