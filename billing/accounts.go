package billing

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// OpenAccountParams opens an account.
type OpenAccountParams struct {
	PatientID   string
	EncounterID string
	// Currency defaults to Config.Currency.
	Currency    string
	Identifiers []Identifier
	Guarantors  []Guarantor
	Coverages   []Coverage
	By          string
}

// OpenAccount opens an active account for a patient, or for one of the
// patient's encounters.
func (s *Service) OpenAccount(ctx context.Context, p OpenAccountParams) (*Account, error) {
	if err := requireBy("open account", p.By); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.PatientID) == "" {
		return nil, invalidf("open account: PatientID is missing")
	}

	if p.Currency == "" {
		p.Currency = s.cfg.Currency
	}
	if err := ValidCurrency(p.Currency); err != nil {
		return nil, fmt.Errorf("open account: %w", err)
	}

	covs, err := normalCoverages(p.Coverages)
	if err != nil {
		return nil, fmt.Errorf("open account: %w", err)
	}
	if err := validGuarantors(p.Guarantors); err != nil {
		return nil, fmt.Errorf("open account: %w", err)
	}
	if err := ValidIdentifiers(p.Identifiers); err != nil {
		return nil, fmt.Errorf("open account: %w", err)
	}

	now := s.now()
	a := Account{
		ID: s.cfg.NewID(), PatientID: p.PatientID, EncounterID: p.EncounterID, Currency: p.Currency,
		Status: AccountActive, Identifiers: slices.Clone(p.Identifiers), Guarantors: slices.Clone(p.Guarantors),
		Coverages: covs, Version: 1, Created: now, Updated: now, UpdatedBy: p.By,
	}

	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.PutAccount(ctx, a); err != nil {
			return err
		}
		return emit(ctx, tx, now, EventAccountChanged, a.ID, a.Version, map[string]any{"status": a.Status, "currency": a.Currency})
	})
	if err != nil {
		return nil, fmt.Errorf("open account: %w", err)
	}
	return &a, nil
}

// UpdateAccountParams replaces the status, identifiers, guarantors and
// coverages of an account. Version is the version the caller read.
type UpdateAccountParams struct {
	ID          string
	Version     int64
	Status      AccountStatus
	Identifiers []Identifier
	Guarantors  []Guarantor
	Coverages   []Coverage
	By          string
}

// UpdateAccount stores a new version of an account. Its patient,
// encounter and currency never change.
func (s *Service) UpdateAccount(ctx context.Context, p UpdateAccountParams) (*Account, error) {
	if err := requireBy("update account", p.By); err != nil {
		return nil, err
	}
	if p.Status != AccountActive && p.Status != AccountInactive {
		return nil, invalidf("update account %s: status %q is not active or inactive", p.ID, p.Status)
	}
	covs, err := normalCoverages(p.Coverages)
	if err != nil {
		return nil, fmt.Errorf("update account %s: %w", p.ID, err)
	}
	if err := validGuarantors(p.Guarantors); err != nil {
		return nil, fmt.Errorf("update account %s: %w", p.ID, err)
	}
	if err := ValidIdentifiers(p.Identifiers); err != nil {
		return nil, fmt.Errorf("update account %s: %w", p.ID, err)
	}
	var out Account
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		a, err := tx.GetAccount(ctx, p.ID)
		if err != nil {
			return err
		}
		if p.Version != 0 && a.Version != p.Version {
			return fmt.Errorf("account is at version %d, not %d: %w", a.Version, p.Version, ErrConflict)
		}
		a.Status, a.Guarantors, a.Coverages = p.Status, slices.Clone(p.Guarantors), covs
		a.Identifiers = slices.Clone(p.Identifiers)
		a.Version++
		a.Updated, a.UpdatedBy = s.now(), p.By
		if err := tx.PutAccount(ctx, *a); err != nil {
			return err
		}
		out = *a
		return emit(ctx, tx, a.Updated, EventAccountChanged, a.ID, a.Version, map[string]any{"status": a.Status})
	})
	if err != nil {
		return nil, fmt.Errorf("update account %s: %w", p.ID, err)
	}
	return &out, nil
}

// GetAccount returns an account.
func (s *Service) GetAccount(ctx context.Context, id string) (*Account, error) {
	return s.store.GetAccount(ctx, id)
}

// ListAccounts returns the accounts that match f.
func (s *Service) ListAccounts(ctx context.Context, f AccountFilter) ([]Account, error) {
	return s.store.ListAccounts(ctx, f)
}

// normalCoverages checks coverages and sorts them by order of benefits.
func normalCoverages(in []Coverage) ([]Coverage, error) {
	out := slices.Clone(in)
	seen := map[int]bool{}
	for i, c := range out {
		switch {
		case strings.TrimSpace(c.PayerID) == "":
			return nil, invalidf("coverage %d: PayerID is missing", i)
		case strings.TrimSpace(c.MemberID) == "":
			return nil, invalidf("coverage %d: MemberID is missing", i)
		case c.Order < 1:
			return nil, invalidf("coverage %d: Order must be 1 or more", i)
		case seen[c.Order]:
			return nil, invalidf("coverage %d: order of benefits %d is used twice", i, c.Order)
		}
		seen[c.Order] = true
	}
	slices.SortFunc(out, func(a, b Coverage) int { return a.Order - b.Order })
	return out, nil
}

func validGuarantors(gs []Guarantor) error {
	for i, g := range gs {
		typ, id, ok := strings.Cut(g.Party, "/")
		if !ok || id == "" || (typ != "Patient" && typ != "RelatedPerson" && typ != "Organization") {
			return invalidf("guarantor %d: Party must be Patient/ID, RelatedPerson/ID or Organization/ID", i)
		}
	}
	return nil
}

// primaryCoverage returns the first coverage of a, if any.
func (a Account) primaryCoverage() (Coverage, bool) {
	if len(a.Coverages) == 0 {
		return Coverage{}, false
	}
	return a.Coverages[0], true
}

// ValidIdentifiers checks identifiers as Store writes them: each has a
// value without surrounding spaces, and none repeats.
func ValidIdentifiers(ids []Identifier) error {
	seen := map[Identifier]bool{}
	for i, id := range ids {
		if id.Value == "" || strings.TrimSpace(id.Value) != id.Value || strings.TrimSpace(id.System) != id.System {
			return invalidf("identifier %d: the value is missing or has surrounding spaces", i+1)
		}
		if seen[id] {
			return invalidf("identifier %d repeats system %q and value %q", i+1, id.System, id.Value)
		}
		seen[id] = true
	}
	return nil
}
