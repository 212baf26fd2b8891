package billing

import (
	"context"
	"fmt"
)

// HistoryStore is the optional part of a Store that reads earlier
// versions of accounts and chargemaster items. billing/sqlstore
// implements it. The Service finds it by type assertion, and without it
// the history reads fail with ErrNotFound.
type HistoryStore interface {
	// AccountHistory returns every version of an account, oldest first.
	// Patient, encounter, currency and Created are those of the account,
	// which never change. Status, identifiers, guarantors, coverages,
	// Updated and UpdatedBy are those of each version.
	AccountHistory(ctx context.Context, id string) ([]Account, error)
	// ChargeDefinitionHistory returns every version of a chargemaster
	// item, oldest first.
	ChargeDefinitionHistory(ctx context.Context, code string) ([]ChargeDefinition, error)
}

func (s *Service) historyStore(what, id string) (HistoryStore, error) {
	h, ok := s.store.(HistoryStore)
	if !ok {
		return nil, fmt.Errorf("history of %s %s: the store keeps no history: %w", what, id, ErrNotFound)
	}
	return h, nil
}

// AccountHistory returns every version of an account, oldest first.
func (s *Service) AccountHistory(ctx context.Context, id string) ([]Account, error) {
	h, err := s.historyStore("account", id)
	if err != nil {
		return nil, err
	}
	return h.AccountHistory(ctx, id)
}

// ChargeDefinitionHistory returns every version of a chargemaster item,
// oldest first.
func (s *Service) ChargeDefinitionHistory(ctx context.Context, code string) ([]ChargeDefinition, error) {
	h, err := s.historyStore("charge definition", code)
	if err != nil {
		return nil, err
	}
	return h.ChargeDefinitionHistory(ctx, code)
}
