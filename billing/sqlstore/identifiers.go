package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nexus-health-360/nexus/billing"
)

// Kinds of owner in billing_identifiers.
const (
	identifiersOfAccount = "account"
	identifiersOfCharge  = "charge"
	identifiersOfInvoice = "invoice"
)

// encodeIdentifiers returns the JSON array stored on the owner's row.
func encodeIdentifiers(ids []billing.Identifier) (string, error) {
	raw, err := json.Marshal(nonNil(ids))
	if err != nil {
		return "", fmt.Errorf("encode identifiers: %w", err)
	}
	return string(raw), nil
}

func decodeIdentifiers(raw, owner string) ([]billing.Identifier, error) {
	var ids []billing.Identifier
	if err := json.Unmarshal([]byte(raw), &ids); err != nil {
		return nil, fmt.Errorf("decode identifiers of %s: %w", owner, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}

// putIdentifiers replaces the search rows of one owner's identifiers.
func (t *txn) putIdentifiers(ctx context.Context, kind, ownerID string, ids []billing.Identifier, replace bool) error {
	if replace {
		if _, err := t.c.exec(ctx, `DELETE FROM billing_identifiers WHERE kind = ? AND owner_id = ?`, kind, ownerID); err != nil {
			return fmt.Errorf("replace identifiers of %s %s: %w", kind, ownerID, err)
		}
	}
	for _, id := range ids {
		_, err := t.c.exec(ctx, `INSERT INTO billing_identifiers (kind, owner_id, system, value) VALUES (?, ?, ?, ?)`,
			kind, ownerID, id.System, id.Value)
		if err != nil {
			return fmt.Errorf("store identifier of %s %s: %w", kind, ownerID, err)
		}
	}
	return nil
}

// identifierCondition returns the WHERE condition that keeps owners with
// an identifier matching m, where ownerColumn is the owner's id column.
func identifierCondition(kind, ownerColumn string, m *billing.IdentifierMatch) (string, []any) {
	cond := `EXISTS (SELECT 1 FROM billing_identifiers x WHERE x.kind = ? AND x.owner_id = ` + ownerColumn
	args := []any{kind}
	if m.Value != "" {
		cond, args = cond+` AND x.value = ?`, append(args, m.Value)
	}
	if m.System != "" {
		cond, args = cond+` AND x.system = ?`, append(args, m.System)
	}
	return cond + `)`, args
}
