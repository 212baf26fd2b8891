package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SourceEvent is a billable event of another domain: a fulfilled
// appointment, a procedure, a bed day or a lab order. The adapter that
// produces it maps the other domain's codes to chargemaster codes.
type SourceEvent struct {
	// Position is the event's place in its source's stream. When it is
	// positive, Capture stores it as the source's position in the same
	// transaction as the charge (see Service.SourcePosition).
	Position int64
	// Source names the domain, such as "scheduling" or "emr".
	Source string
	// EventID identifies the event within Source; capture is idempotent
	// on (Source, EventID).
	EventID     string
	PatientID   string
	EncounterID string
	// Code is the chargemaster code to bill.
	Code string
	// Quantity defaults to 1.
	Quantity    int64
	ServiceDate time.Time
}

// ChargeSource yields billable events of another domain in order. The
// billing package declares it, and each domain's adapter implements it.
type ChargeSource interface {
	// BillableEvents returns up to limit events after position, oldest
	// first.
	BillableEvents(ctx context.Context, after int64, limit int) ([]SourceEvent, error)
}

// Capture records the charge for ev on the patient's account for the
// encounter (or the general account), opening the account when there is
// none. Capturing the same event again returns the charge stored the
// first time with created false, so a replayed event never bills twice.
// The source's position moves to ev.Position in the same transaction,
// so a crash after the commit never captures the event again from the
// stored position, and a crash before it leaves both unchanged.
func (s *Service) Capture(ctx context.Context, ev SourceEvent) (charge *Charge, created bool, err error) {
	switch {
	case strings.TrimSpace(ev.Source) == "" || strings.TrimSpace(ev.EventID) == "":
		return nil, false, invalidf("capture: Source and EventID are required")
	case strings.TrimSpace(ev.PatientID) == "":
		return nil, false, invalidf("capture %s %s: PatientID is missing", ev.Source, ev.EventID)
	case ev.Quantity < 0:
		return nil, false, invalidf("capture %s %s: Quantity is negative", ev.Source, ev.EventID)
	}
	if ev.Quantity == 0 {
		ev.Quantity = 1
	}
	if ev.ServiceDate.IsZero() {
		ev.ServiceDate = s.now()
	}
	capture := func(ctx context.Context, tx Tx) error {
		created = false
		if ev.Position > 0 {
			if err := tx.AdvanceSourcePosition(ctx, ev.Source, ev.Position, s.now()); err != nil {
				return err
			}
		}
		existing, err := tx.ChargeBySource(ctx, ev.Source, ev.EventID)
		if err == nil {
			charge = existing
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		acct, err := s.accountFor(ctx, tx, ev)
		if err != nil {
			return err
		}
		c, err := s.priceCharge(ctx, tx, acct, ev.Code, ev.Quantity, ev.ServiceDate)
		if err != nil {
			return err
		}
		c.Source, c.SourceEventID, c.EnteredBy = ev.Source, ev.EventID, ev.Source
		if err := s.insertCharge(ctx, tx, c); err != nil {
			return err
		}
		charge, created = c, true
		return nil
	}
	err = s.inTx(ctx, capture)
	if errors.Is(err, ErrConflict) {
		// A concurrent capture of the same event won the unique index, so
		// a second run finds its charge and still moves the position.
		if _, getErr := s.chargeBySource(ctx, ev.Source, ev.EventID); getErr == nil {
			err = s.inTx(ctx, capture)
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("capture %s event %s: %w", ev.Source, ev.EventID, err)
	}
	return charge, created, nil
}

func (s *Service) chargeBySource(ctx context.Context, source, eventID string) (*Charge, error) {
	var out *Charge
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		c, err := tx.ChargeBySource(ctx, source, eventID)
		out = c
		return err
	})
	return out, err
}

// SourcePosition returns the position that Capture has reached in the
// stream of source, 0 before its first event, so a consumer resumes
// there after a restart.
func (s *Service) SourcePosition(ctx context.Context, source string) (int64, error) {
	pos, err := s.store.SourcePosition(ctx, source)
	if err != nil {
		return 0, fmt.Errorf("source position of %s: %w", source, err)
	}
	return pos, nil
}

// SkipSourceEvent moves the position of ev's source past ev without a
// charge, for an event the caller decided not to bill, such as one whose
// code the chargemaster does not price.
func (s *Service) SkipSourceEvent(ctx context.Context, ev SourceEvent) error {
	if strings.TrimSpace(ev.Source) == "" || ev.Position <= 0 {
		return invalidf("skip source event: Source and a positive Position are required")
	}
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		return tx.AdvanceSourcePosition(ctx, ev.Source, ev.Position, s.now())
	})
	if err != nil {
		return fmt.Errorf("skip %s event %s: %w", ev.Source, ev.EventID, err)
	}
	return nil
}

// CaptureFrom captures every event src returns after position, in
// batches of limit, and returns the position of the last event it
// captured. It stops at the first event it cannot capture, such as one
// with a code the chargemaster lacks, so the caller can fix the cause and
// resume from the returned position.
func (s *Service) CaptureFrom(ctx context.Context, src ChargeSource, after int64, limit int) (last int64, captured int, err error) {
	if limit <= 0 {
		limit = 100
	}
	last = after
	for {
		events, err := src.BillableEvents(ctx, last, limit)
		if err != nil {
			return last, captured, fmt.Errorf("read billable events after %d: %w", last, err)
		}
		for _, ev := range events {
			_, created, err := s.Capture(ctx, ev)
			if err != nil {
				return last, captured, err
			}
			if created {
				captured++
			}
			last = ev.Position
		}
		if len(events) < limit {
			return last, captured, nil
		}
	}
}

// accountFor returns the active account for the event's encounter, or
// the patient's general account, opening one in Config.Currency.
func (s *Service) accountFor(ctx context.Context, tx Tx, ev SourceEvent) (*Account, error) {
	f := AccountFilter{PatientID: ev.PatientID, EncounterID: ev.EncounterID, NoEncounter: ev.EncounterID == ""}
	accounts, err := tx.ListAccounts(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		if a.Status == AccountActive {
			return &a, nil
		}
	}
	now := s.now()
	a := Account{
		ID: s.cfg.NewID(), PatientID: ev.PatientID, EncounterID: ev.EncounterID, Currency: s.cfg.Currency,
		Status: AccountActive, Version: 1, Created: now, Updated: now, UpdatedBy: ev.Source,
	}
	if err := tx.PutAccount(ctx, a); err != nil {
		return nil, err
	}
	if err := emit(ctx, tx, now, EventAccountChanged, a.ID, a.Version, map[string]any{"status": a.Status, "currency": a.Currency}); err != nil {
		return nil, err
	}
	return &a, nil
}

// priceCharge builds a charge for code on acct from the chargemaster,
// using the price of the account's primary coverage.
func (s *Service) priceCharge(ctx context.Context, tx Tx, acct *Account, code string, quantity int64, date time.Time) (*Charge, error) {
	if acct.Status != AccountActive {
		return nil, fmt.Errorf("account %s is inactive: %w", acct.ID, ErrInvalid)
	}
	def, err := tx.GetChargeDefinition(ctx, code, 0)
	if errors.Is(err, ErrNotFound) || (err == nil && !def.Active) {
		return nil, fmt.Errorf("code %q: %w", code, ErrUnknownCode)
	}
	if err != nil {
		return nil, err
	}
	cov, _ := acct.primaryCoverage()
	price, err := def.PriceFor(cov.PayerID, cov.PlanID, date)
	if err != nil {
		return nil, err
	}
	if price.UnitPrice.Currency != acct.Currency {
		return nil, fmt.Errorf("code %s is priced in %s, account %s is in %s: %w",
			code, price.UnitPrice.Currency, acct.ID, acct.Currency, ErrCurrencyMismatch)
	}
	return &Charge{
		ID: s.cfg.NewID(), AccountID: acct.ID, Code: def.Code, System: def.System, Display: def.Display,
		DefinitionVersion: def.Version, Quantity: quantity, UnitPrice: price.UnitPrice, Discount: price.Discount,
		TaxRate: def.TaxRate, ServiceDate: date.UTC(), Entered: s.now(), Status: ChargeBillable,
	}, nil
}

func (s *Service) insertCharge(ctx context.Context, tx Tx, c *Charge) error {
	if _, err := c.Line(); err != nil {
		return err
	}
	if err := tx.InsertCharge(ctx, *c); err != nil {
		return err
	}
	typ := EventChargeCaptured
	if c.Reverses != "" {
		typ = EventChargeReversed
	}
	return emit(ctx, tx, c.Entered, typ, c.ID, 1, map[string]any{
		"account": c.AccountID, "code": c.Code, "quantity": c.Quantity, "unit_price": moneyData(c.UnitPrice),
		"source": c.Source, "reverses": c.Reverses,
	})
}

// ManualChargeParams enters a charge by hand.
type ManualChargeParams struct {
	AccountID string
	Code      string
	// Quantity defaults to 1.
	Quantity    int64
	ServiceDate time.Time
	// Reason is the required reason for entering the charge by hand.
	Reason string
	// UnitPrice, when set, overrides the chargemaster price, and
	// OverrideReason is then required.
	UnitPrice      *Money
	Factor         Rate
	OverrideReason string
	Identifiers    []Identifier
	By             string
}

// AddManualCharge enters a charge with a reason, priced from the
// chargemaster unless overridden.
func (s *Service) AddManualCharge(ctx context.Context, p ManualChargeParams) (*Charge, error) {
	if err := requireBy("manual charge", p.By); err != nil {
		return nil, err
	}
	switch {
	case strings.TrimSpace(p.Reason) == "":
		return nil, invalidf("manual charge on account %s: Reason is missing", p.AccountID)
	case p.Quantity < 0:
		return nil, invalidf("manual charge on account %s: Quantity is negative, reverse the charge instead", p.AccountID)
	case p.UnitPrice != nil && strings.TrimSpace(p.OverrideReason) == "":
		return nil, invalidf("manual charge on account %s: a price override needs OverrideReason", p.AccountID)
	case p.UnitPrice != nil && p.UnitPrice.Amount < 0:
		return nil, invalidf("manual charge on account %s: UnitPrice is negative", p.AccountID)
	case p.Factor < 0:
		return nil, invalidf("manual charge on account %s: Factor is negative", p.AccountID)
	}
	if err := ValidIdentifiers(p.Identifiers); err != nil {
		return nil, fmt.Errorf("manual charge on account %s: %w", p.AccountID, err)
	}
	if p.Quantity == 0 {
		p.Quantity = 1
	}
	if p.ServiceDate.IsZero() {
		p.ServiceDate = s.now()
	}
	var out *Charge
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		acct, err := tx.GetAccount(ctx, p.AccountID)
		if err != nil {
			return err
		}
		c, err := s.priceCharge(ctx, tx, acct, p.Code, p.Quantity, p.ServiceDate)
		if err != nil {
			return err
		}
		if p.UnitPrice != nil {
			if p.UnitPrice.Currency != acct.Currency {
				return fmt.Errorf("override in %s on account in %s: %w", p.UnitPrice.Currency, acct.Currency, ErrCurrencyMismatch)
			}
			c.UnitPrice, c.Discount, c.OverrideReason = *p.UnitPrice, 0, p.OverrideReason
		}
		c.Factor, c.Reason, c.EnteredBy = p.Factor, p.Reason, p.By
		c.Identifiers = slices.Clone(p.Identifiers)
		if err := s.insertCharge(ctx, tx, c); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("manual charge on account %s: %w", p.AccountID, err)
	}
	return out, nil
}

// ReverseChargeParams reverses a charge.
type ReverseChargeParams struct {
	ChargeID string
	Reason   string
	By       string
}

// ReverseCharge stores a reversing charge: the same item and prices with
// the quantity negated. A charge is reversed at most once, and a reversal
// cannot itself be reversed. When the charge is on an issued invoice, the
// reversal is billed on the next one as a credit.
func (s *Service) ReverseCharge(ctx context.Context, p ReverseChargeParams) (*Charge, error) {
	if err := requireBy("reverse charge", p.By); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Reason) == "" {
		return nil, invalidf("reverse charge %s: Reason is missing", p.ChargeID)
	}
	var out *Charge
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		orig, err := tx.GetCharge(ctx, p.ChargeID)
		if err != nil {
			return err
		}
		switch {
		case orig.Reverses != "":
			return fmt.Errorf("charge %s is a reversal: %w", orig.ID, ErrInvalid)
		case orig.ReversedBy != "":
			return fmt.Errorf("charge %s is already reversed by %s: %w", orig.ID, orig.ReversedBy, ErrConflict)
		}
		if _, err := tx.GetAccount(ctx, orig.AccountID); err != nil {
			return err
		}
		rev := *orig
		rev.ID = s.cfg.NewID()
		rev.Quantity = -orig.Quantity
		rev.Source, rev.SourceEventID, rev.InvoiceID, rev.ReversedBy = "", "", "", ""
		rev.Identifiers = nil
		rev.Reverses, rev.Reason, rev.EnteredBy, rev.Entered = orig.ID, p.Reason, p.By, s.now()
		rev.Status = ChargeBillable
		if err := s.insertCharge(ctx, tx, &rev); err != nil {
			return err
		}
		out = &rev
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reverse charge %s: %w", p.ChargeID, err)
	}
	return out, nil
}

// GetCharge returns a charge.
func (s *Service) GetCharge(ctx context.Context, id string) (*Charge, error) {
	return s.store.GetCharge(ctx, id)
}

// ListCharges returns the charges that match f.
func (s *Service) ListCharges(ctx context.Context, f ChargeFilter) ([]Charge, error) {
	return s.store.ListCharges(ctx, f)
}
