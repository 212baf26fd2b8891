package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// PutChargeDefinitionParams stores a chargemaster item.
type PutChargeDefinitionParams struct {
	Definition ChargeDefinition
	// BaseVersion, when positive, is the version the caller read: the
	// write fails with ErrConflict unless it is still the latest.
	BaseVersion int64
	By          string
}

// PutChargeDefinition validates an item and stores it as its next
// version. Charges already captured keep the version that priced them.
func (s *Service) PutChargeDefinition(ctx context.Context, p PutChargeDefinitionParams) (*ChargeDefinition, error) {
	d := p.Definition
	if err := requireBy("put charge definition", p.By); err != nil {
		return nil, err
	}
	if d.System == "" {
		d.System = SystemLocal
	}
	if err := validateDefinition(d); err != nil {
		return nil, err
	}
	d.Prices = slices.Clone(d.Prices)
	for i := range d.Prices {
		d.Prices[i].From = d.Prices[i].From.UTC()
		d.Prices[i].Until = d.Prices[i].Until.UTC()
	}
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		cur, err := tx.GetChargeDefinition(ctx, d.Code, 0)
		switch {
		case errors.Is(err, ErrNotFound) && p.BaseVersion > 0:
			return fmt.Errorf("the item does not exist, so it is not at version %d: %w", p.BaseVersion, ErrConflict)
		case err == nil && p.BaseVersion > 0 && cur.Version != p.BaseVersion:
			return fmt.Errorf("the item is at version %d, not %d: %w", cur.Version, p.BaseVersion, ErrConflict)
		case errors.Is(err, ErrNotFound):
			d.Version = 1
		case err != nil:
			return err
		default:
			d.Version = cur.Version + 1
		}
		d.Updated, d.UpdatedBy = s.now(), p.By
		return tx.PutChargeDefinition(ctx, d)
	})
	if err != nil {
		return nil, fmt.Errorf("put charge definition %s: %w", d.Code, err)
	}
	return &d, nil
}

func validateDefinition(d ChargeDefinition) error {
	if strings.TrimSpace(d.Code) == "" || len(d.Code) > 64 {
		return invalidf("charge definition: Code must have 1 to 64 characters")
	}
	if d.TaxRate < 0 || d.TaxRate > RateScale {
		return invalidf("charge definition %s: TaxRate %s is outside 0%% to 100%%", d.Code, d.TaxRate)
	}
	if d.Active && len(d.Prices) == 0 {
		return invalidf("charge definition %s: an active item needs at least one price", d.Code)
	}
	for i, p := range d.Prices {
		if err := ValidCurrency(p.UnitPrice.Currency); err != nil {
			return fmt.Errorf("charge definition %s: price %d: %w", d.Code, i, err)
		}
		if p.UnitPrice.Amount < 0 {
			return invalidf("charge definition %s: price %d is negative", d.Code, i)
		}
		if p.Discount < 0 || p.Discount > RateScale {
			return invalidf("charge definition %s: price %d: discount %s is outside 0%% to 100%%", d.Code, i, p.Discount)
		}
		if p.PayerID == "" && p.PlanID != "" {
			return invalidf("charge definition %s: price %d names a plan without a payer", d.Code, i)
		}
		if !p.From.IsZero() && !p.Until.IsZero() && !p.From.Before(p.Until) {
			return invalidf("charge definition %s: price %d ends before it starts", d.Code, i)
		}
		for j, q := range d.Prices[:i] {
			if q.PayerID == p.PayerID && q.PlanID == p.PlanID && overlaps(q, p) {
				return invalidf("charge definition %s: prices %d and %d overlap for one payer and plan", d.Code, j, i)
			}
		}
	}
	return nil
}

// overlaps reports whether two price date ranges share a day.
func overlaps(a, b Price) bool {
	aEndsBeforeB := !a.Until.IsZero() && !b.From.IsZero() && !a.Until.After(b.From)
	bEndsBeforeA := !b.Until.IsZero() && !a.From.IsZero() && !b.Until.After(a.From)
	return !aEndsBeforeB && !bEndsBeforeA
}

// GetChargeDefinition returns one version of an item, the latest when
// version is 0.
func (s *Service) GetChargeDefinition(ctx context.Context, code string, version int64) (*ChargeDefinition, error) {
	return s.store.GetChargeDefinition(ctx, code, version)
}

// ListChargeDefinitions returns the latest version of every item.
func (s *Service) ListChargeDefinitions(ctx context.Context) ([]ChargeDefinition, error) {
	return s.store.ListChargeDefinitions(ctx)
}
