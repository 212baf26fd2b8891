package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/storage"
)

// RotateSigningKey retires the active keys and stores key as active.
func (s *Store) RotateSigningKey(ctx context.Context, key security.SigningKey) error {
	op := "rotate signing key " + key.ID
	private, err := s.seal(op, key.PrivateKey, signingKeyAAD(key.ID))
	if err != nil {
		return err
	}
	tx, err := s.db.Writer.BeginTxx(ctx, nil)
	if err != nil {
		return classify(op, err)
	}
	defer tx.Rollback()
	if s.db.Dialect == storage.Postgres {
		// Serialises concurrent rotations, so exactly one key stays active.
		if _, err := tx.ExecContext(ctx, `LOCK TABLE security_signing_keys IN EXCLUSIVE MODE`); err != nil {
			return classify(op, err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(
		`UPDATE security_signing_keys SET retired_at = ? WHERE retired_at = 0`), micros(key.CreatedAt)); err != nil {
		return classify(op, err)
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO security_signing_keys
		(id, algorithm, private_key, created_at, retired_at) VALUES (?, ?, ?, ?, 0)`),
		key.ID, key.Algorithm, private, micros(key.CreatedAt)); err != nil {
		return classify(op, err)
	}
	if err := tx.Commit(); err != nil {
		return classify(op, err)
	}
	return nil
}

type keyRow struct {
	ID         string `db:"id"`
	Algorithm  string `db:"algorithm"`
	PrivateKey []byte `db:"private_key"`
	CreatedAt  int64  `db:"created_at"`
	RetiredAt  int64  `db:"retired_at"`
}

// SigningKeys returns the active key first, then those retired at or
// after since, newest first.
func (s *Store) SigningKeys(ctx context.Context, since time.Time) ([]security.SigningKey, error) {
	var rows []keyRow
	err := s.db.Reader.SelectContext(ctx, &rows, s.db.Rebind(`SELECT id, algorithm, private_key,
		created_at, retired_at FROM security_signing_keys WHERE retired_at = 0 OR retired_at >= ?
		ORDER BY CASE WHEN retired_at = 0 THEN 0 ELSE 1 END, created_at DESC, id DESC`), micros(since))
	if err != nil {
		return nil, classify("list signing keys", err)
	}
	out := make([]security.SigningKey, len(rows))
	for i, r := range rows {
		private, err := s.open("read signing key "+r.ID, r.PrivateKey, signingKeyAAD(r.ID))
		if err != nil {
			return nil, err
		}
		out[i] = security.SigningKey{ID: r.ID, Algorithm: r.Algorithm, PrivateKey: private,
			CreatedAt: fromMicros(r.CreatedAt), RetiredAt: fromMicros(r.RetiredAt)}
	}
	return out, nil
}

// UseJTI records a jti, failing with security.ErrReplay when it was used.
func (s *Store) UseJTI(ctx context.Context, issuer, jti string, expiresAt, now time.Time) error {
	op := "use jti of " + issuer
	if _, err := s.db.Writer.ExecContext(ctx, s.db.Rebind(
		`DELETE FROM security_jti WHERE expires_at < ?`), micros(now)); err != nil {
		return classify(op, err)
	}
	_, err := s.db.Writer.ExecContext(ctx, s.db.Rebind(
		`INSERT INTO security_jti (issuer, jti, expires_at) VALUES (?, ?, ?)`), issuer, jti, micros(expiresAt))
	if err != nil {
		err = classify(op, err)
		if errors.Is(err, security.ErrConflict) {
			return fmt.Errorf("%s: %w", op, security.ErrReplay)
		}
		return err
	}
	return nil
}
