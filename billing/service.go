package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"time"
)

// Service holds the billing rules: pricing, charge capture, invoicing,
// the ledger, payments and claims. It is safe for concurrent use.
type Service struct {
	store Store
	cfg   Config
	log   *slog.Logger
}

// NewService returns a Service on store.
func NewService(store Store, cfg Config) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{store: store, cfg: cfg, log: cfg.Logger}, nil
}

// Store returns the service's store, for reads that need no rules.
func (s *Service) Store() Store { return s.store }

func (s *Service) now() time.Time { return s.cfg.Clock().UTC() }

// inTx runs fn in a write transaction and retries it when the database
// broke a deadlock or a serialisation conflict.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		err = s.store.InTx(ctx, fn)
		if !errors.Is(err, ErrTransient) {
			return err
		}
		s.log.DebugContext(ctx, "retrying billing write after a concurrent change", "attempt", attempt+1)
		// A short, growing, random pause keeps two colliding transactions
		// from colliding again.
		time.Sleep(time.Duration(attempt+1) * time.Duration(1+mrand.IntN(20)) * time.Millisecond)
	}
	return err
}

// emit appends an event with data encoded as JSON.
func emit(ctx context.Context, tx Tx, at time.Time, typ, subject string, version int64, data map[string]any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s event for %s: %w", typ, subject, err)
	}
	e := Event{Type: typ, Subject: subject, Version: version, Time: at, Data: raw}
	if err := tx.Emit(ctx, e); err != nil {
		return fmt.Errorf("emit %s for %s: %w", typ, subject, err)
	}
	return nil
}

// requireBy rejects a write that names no user, because every billing
// record keeps who made it.
func requireBy(op, by string) error {
	if strings.TrimSpace(by) == "" {
		return invalidf("%s: By (the user making the change) is missing", op)
	}
	return nil
}

// money returns m as the JSON object events carry.
func moneyData(m Money) map[string]any {
	return map[string]any{"amount": m.Amount, "currency": m.Currency}
}
