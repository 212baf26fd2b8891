package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nexus-health-360/nexus/billing"
)

var _ billing.HistoryStore = (*Store)(nil)

// accountSnapshot is the JSON of billing_account_history.snapshot.
// Versions recorded before identifiers were kept have none.
type accountSnapshot struct {
	Status      billing.AccountStatus `json:"status"`
	Guarantors  []billing.Guarantor   `json:"guarantors"`
	Coverages   []billing.Coverage    `json:"coverages"`
	Identifiers []billing.Identifier  `json:"identifiers"`
}

func (s *Store) AccountHistory(ctx context.Context, id string) ([]billing.Account, error) {
	c := s.reader()
	cur, err := getAccount(ctx, c, id)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Version   int64  `db:"version"`
		Snapshot  string `db:"snapshot"`
		ChangedAt int64  `db:"changed_at"`
		ChangedBy string `db:"changed_by"`
	}
	err = c.sel(ctx, &rows, `SELECT version, snapshot, changed_at, changed_by FROM billing_account_history
		WHERE account_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("read history of account %s: %w", id, err)
	}
	out := make([]billing.Account, len(rows))
	for i, r := range rows {
		var snap accountSnapshot
		if err := json.Unmarshal([]byte(r.Snapshot), &snap); err != nil {
			return nil, fmt.Errorf("decode version %d of account %s: %w", r.Version, id, err)
		}
		a := *cur
		a.Version, a.Status, a.Updated, a.UpdatedBy = r.Version, snap.Status, fromMicros(r.ChangedAt), r.ChangedBy
		a.Guarantors, a.Coverages, a.Identifiers = snap.Guarantors, snap.Coverages, snap.Identifiers
		if len(a.Identifiers) == 0 {
			a.Identifiers = nil
		}
		out[i] = a
	}
	return out, nil
}

func (s *Store) ChargeDefinitionHistory(ctx context.Context, code string) ([]billing.ChargeDefinition, error) {
	var rows []definitionRow
	err := s.reader().sel(ctx, &rows, `SELECT `+definitionColumns+` FROM billing_charge_definitions
		WHERE code = ? ORDER BY version`, code)
	if err != nil {
		return nil, fmt.Errorf("read history of charge definition %s: %w", code, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("charge definition %s: %w", code, billing.ErrNotFound)
	}
	out := make([]billing.ChargeDefinition, len(rows))
	for i, r := range rows {
		if out[i], err = r.definition(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
