package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/nexus-health-360/nexus/billing"
)

var _ billing.KeptElementStore = (*Store)(nil)

func (s *Store) PutKeptElements(ctx context.Context, kind, id string, version int64, doc []byte) error {
	return s.InTx(ctx, func(ctx context.Context, tx billing.Tx) error {
		c := tx.(*txn).c
		if _, err := c.exec(ctx, `DELETE FROM billing_kept_elements WHERE kind = ? AND record_id = ? AND version = ?`, kind, id, version); err != nil {
			return fmt.Errorf("replace kept elements of %s %s version %d: %w", kind, id, version, mapErr(err))
		}
		_, err := c.exec(ctx, `INSERT INTO billing_kept_elements (kind, record_id, version, document) VALUES (?, ?, ?, ?)`,
			kind, id, version, string(doc))
		if err != nil {
			return fmt.Errorf("store kept elements of %s %s version %d: %w", kind, id, version, mapErr(err))
		}
		return nil
	})
}

func (s *Store) KeptElements(ctx context.Context, kind, id string, version int64) ([]byte, error) {
	var doc string
	err := s.reader().get(ctx, &doc, `SELECT document FROM billing_kept_elements
		WHERE kind = ? AND record_id = ? AND version <= ? ORDER BY version DESC LIMIT 1`, kind, id, version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read kept elements of %s %s version %d: %w", kind, id, version, mapErr(err))
	}
	return []byte(doc), nil
}
