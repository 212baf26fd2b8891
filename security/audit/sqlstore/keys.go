package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/storage"
)

func seedAAD(id string) []byte { return []byte("audit_signing_keys|" + id) }

type keyRow struct {
	ID        string `db:"id"`
	Public    []byte `db:"public_key"`
	Seed      []byte `db:"seed"`
	CreatedAt int64  `db:"created_at"`
}

// SigningKey returns the checkpoint signing key, opening its seed with the
// DB's Cipher when it is sealed. A sealed seed without a Cipher is an error
// wrapping storage.ErrNoCipher.
func (s *Store) SigningKey(ctx context.Context) (audit.SigningKey, error) {
	var row keyRow
	err := s.db.Reader.GetContext(ctx, &row, `SELECT id, public_key, seed, created_at FROM audit_signing_keys ORDER BY created_at LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.SigningKey{}, fmt.Errorf("read audit signing key: %w", audit.ErrNotFound)
	}
	if err != nil {
		return audit.SigningKey{}, fmt.Errorf("read audit signing key: %w", mapErr(err))
	}
	seed, err := s.openSeed(row)
	if err != nil {
		return audit.SigningKey{}, err
	}
	return audit.SigningKey{ID: row.ID, Public: row.Public, Seed: seed, CreatedAt: time.UnixMicro(row.CreatedAt).UTC()}, nil
}

func (s *Store) openSeed(row keyRow) ([]byte, error) {
	_, sealed, err := storage.ParseSealed(row.Seed)
	if err != nil {
		return nil, fmt.Errorf("read audit signing key %s: %w", row.ID, err)
	}
	if !sealed {
		return row.Seed, nil
	}
	if s.db.Cipher == nil {
		return nil, fmt.Errorf("read audit signing key %s: %w", row.ID, storage.ErrNoCipher)
	}
	seed, err := s.db.Cipher.Open(row.Seed, seedAAD(row.ID))
	if err != nil {
		return nil, fmt.Errorf("read audit signing key %s: %w", row.ID, err)
	}
	return seed, nil
}

func (s *Store) sealSeed(id string, seed []byte) ([]byte, error) {
	if s.db.Cipher == nil {
		return seed, nil
	}
	sealed, err := s.db.Cipher.Seal(seed, seedAAD(id))
	if err != nil {
		return nil, fmt.Errorf("seal audit signing key %s: %w", id, err)
	}
	return sealed, nil
}

// PutSigningKey stores the signing key unless one exists already, in
// which case it returns audit.ErrConflict.
func (s *Store) PutSigningKey(ctx context.Context, k audit.SigningKey) error {
	seed, err := s.sealSeed(k.ID, k.Seed)
	if err != nil {
		return err
	}

	tx, err := s.db.Writer.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin storing audit signing key: %w", mapErr(err))
	}
	defer tx.Rollback()
	if s.db.Dialect == storage.Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('nexus.audit'))`); err != nil {
			return fmt.Errorf("take audit append lock: %w", mapErr(err))
		}
	}

	var n int
	if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM audit_signing_keys`); err != nil {
		return fmt.Errorf("count audit signing keys: %w", mapErr(err))
	}
	if n > 0 {
		return fmt.Errorf("store audit signing key %s: a key exists: %w", k.ID, audit.ErrConflict)
	}

	_, err = tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO audit_signing_keys (id, public_key, seed, created_at) VALUES (?, ?, ?, ?)`),
		k.ID, k.Public, seed, k.CreatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("store audit signing key %s: %w", k.ID, mapErr(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit audit signing key %s: %w", k.ID, mapErr(err))
	}
	return nil
}

// Component returns "audit".
func (s *Store) Component() string { return "audit" }

// RewrapBatch seals the signing key seeds again under the active key
// version. The table holds one row, so one batch covers it.
func (s *Store) RewrapBatch(ctx context.Context, p storage.RewrapParams) (storage.RewrapResult, error) {
	if s.db.Cipher == nil {
		return storage.RewrapResult{}, fmt.Errorf("rewrap audit signing keys: %w", storage.ErrNoCipher)
	}
	active := s.db.Cipher.ActiveKeyVersion()
	var rows []keyRow
	if err := s.db.Reader.SelectContext(ctx, &rows, `SELECT id, public_key, seed, created_at FROM audit_signing_keys`); err != nil {
		return storage.RewrapResult{}, fmt.Errorf("rewrap audit signing keys: %w", mapErr(err))
	}
	res := storage.RewrapResult{Done: true, Examined: len(rows)}
	for _, row := range rows {
		version, sealed, err := storage.ParseSealed(row.Seed)
		if err != nil {
			return storage.RewrapResult{}, fmt.Errorf("rewrap audit signing key %s: %w", row.ID, err)
		}
		if sealed && version == active {
			continue
		}
		seed, err := s.openSeed(row)
		if err != nil {
			return storage.RewrapResult{}, err
		}
		resealed, err := s.sealSeed(row.ID, seed)
		if err != nil {
			return storage.RewrapResult{}, err
		}
		if _, err := s.db.Writer.ExecContext(ctx, s.db.Rebind(`UPDATE audit_signing_keys SET seed = ? WHERE id = ?`), resealed, row.ID); err != nil {
			return storage.RewrapResult{}, fmt.Errorf("rewrap audit signing key %s: %w", row.ID, mapErr(err))
		}
		res.Rewrapped++
	}
	return res, nil
}

// KeyVersionUsage counts signing key seeds by key version, 0 for
// plaintext.
func (s *Store) KeyVersionUsage(ctx context.Context) (map[uint32]int64, error) {
	var seeds [][]byte
	if err := s.db.Reader.SelectContext(ctx, &seeds, `SELECT seed FROM audit_signing_keys`); err != nil {
		return nil, fmt.Errorf("count audit key versions: %w", mapErr(err))
	}
	usage := map[uint32]int64{}
	for _, seed := range seeds {
		version, _, err := storage.ParseSealed(seed)
		if err != nil {
			return nil, fmt.Errorf("count audit key versions: %w", err)
		}
		usage[version]++
	}
	return usage, nil
}
