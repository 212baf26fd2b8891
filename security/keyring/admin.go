package keyring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nexus-health-360/nexus/storage"
)

// KeyVersion describes one data key version; it never holds key material.
type KeyVersion struct {
	Version        uint32
	State          State
	CreatedAt      time.Time
	StateChangedAt time.Time
}

// Status lists the key versions, oldest first.
func (r *Ring) Status(ctx context.Context) ([]KeyVersion, error) { return Versions(ctx, r.db) }

// Versions lists the key versions of db, oldest first, without the master
// key. It only reads, so it creates no version on a database without
// keys.
func Versions(ctx context.Context, db *storage.DB) ([]KeyVersion, error) {
	var rows []keyRow
	if err := db.Reader.SelectContext(ctx, &rows,
		`SELECT version, state, created_at, state_changed_at FROM security_keyring_keys ORDER BY version`); err != nil {
		return nil, fmt.Errorf("keyring: list key versions: %w", err)
	}
	out := make([]KeyVersion, len(rows))
	for i, row := range rows {
		out[i] = KeyVersion{
			Version: uint32(row.Version), State: State(row.State),
			CreatedAt:      time.UnixMicro(row.CreatedAt).UTC(),
			StateChangedAt: time.UnixMicro(row.StateChangedAt).UTC(),
		}
	}
	return out, nil
}

// Rotate creates a new active key version and makes the previous one
// decrypt-only. This process seals new values under the new version at
// once, and other processes do so after their next reload. Existing rows
// move to it when a rewrap runs.
func (r *Ring) Rotate(ctx context.Context) (uint32, error) {
	tx, err := r.db.Writer.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("keyring: begin rotate: %w", err)
	}
	defer tx.Rollback()
	if err := lockRing(ctx, tx, r.db); err != nil {
		return 0, err
	}
	var latest int64
	if err := tx.GetContext(ctx, &latest, `SELECT COALESCE(MAX(version), 0) FROM security_keyring_keys`); err != nil {
		return 0, fmt.Errorf("keyring: rotate: read latest version: %w", err)
	}

	next := uint32(latest + 1)
	wrapped, err := r.wrapNewKey(next)
	if err != nil {
		return 0, err
	}
	now := r.cfg.Now().UTC().UnixMicro()
	if _, err := tx.ExecContext(ctx, r.db.Rebind(`UPDATE security_keyring_keys SET state = ?, state_changed_at = ? WHERE state = ?`),
		string(DecryptOnly), now, string(Active)); err != nil {
		return 0, fmt.Errorf("keyring: rotate: demote active version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, r.db.Rebind(`INSERT INTO security_keyring_keys
		(version, state, wrapped_key, created_at, state_changed_at) VALUES (?, ?, ?, ?, ?)`),
		next, string(Active), wrapped, now, now); err != nil {
		return 0, fmt.Errorf("keyring: rotate: insert version %d: %w", next, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("keyring: commit rotate: %w", err)
	}
	if err := r.Reload(ctx); err != nil {
		return 0, err
	}
	r.cfg.Logger.Info("data key rotated", "active_version", next)
	return next, nil
}

// Retire erases the key of a decrypt-only version after checking, through
// every store given, that no row is still sealed under it. Values sealed
// under a retired version can never be opened again, so Retire rejects the
// active version and a version still in use with ErrInUse.
func (r *Ring) Retire(ctx context.Context, version uint32, stores ...storage.Rewrapper) error {
	var state string
	err := r.db.Reader.GetContext(ctx, &state, r.db.Rebind(`SELECT state FROM security_keyring_keys WHERE version = ?`), version)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("keyring: retire version %d: %w", version, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("keyring: retire version %d: %w", version, err)
	}
	switch State(state) {
	case Retired:
		return nil
	case Active:
		return fmt.Errorf("keyring: retire version %d: it is the active version; rotate first: %w", version, ErrInUse)
	}
	for _, s := range stores {
		usage, err := s.KeyVersionUsage(ctx)
		if err != nil {
			return fmt.Errorf("keyring: retire version %d: count rows of %s: %w", version, s.Component(), err)
		}
		if n := usage[version]; n > 0 {
			return fmt.Errorf("keyring: retire version %d: %d rows of %s are sealed under it; rewrap from the start first: %w",
				version, n, s.Component(), ErrInUse)
		}
	}
	// NOTE: a process that has not reloaded since the rotation may still
	// seal a row under this version between the count above and the update
	// below, and that row would no longer open. RefreshInterval bounds the
	// window, so retire only well after rotating.
	_, err = r.db.Writer.ExecContext(ctx, r.db.Rebind(`UPDATE security_keyring_keys
		SET state = ?, wrapped_key = NULL, state_changed_at = ? WHERE version = ? AND state = ?`),
		string(Retired), r.cfg.Now().UTC().UnixMicro(), version, string(DecryptOnly))
	if err != nil {
		return fmt.Errorf("keyring: retire version %d: %w", version, err)
	}
	if err := r.Reload(ctx); err != nil {
		return err
	}
	r.cfg.Logger.Info("data key retired", "version", version)
	return nil
}

// ChangeMasterKey wraps every data key and secret again under newMaster in
// one transaction. The data keys and the rows they seal stay the same. The
// Ring keeps working under the new master key; other processes must be
// restarted with it.
func (r *Ring) ChangeMasterKey(ctx context.Context, newMaster []byte) error {
	if err := (Config{MasterKey: newMaster}).Validate(); err != nil {
		return err
	}
	next, err := newAEAD(newMaster)
	if err != nil {
		return err
	}
	tx, err := r.db.Writer.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("keyring: begin master key change: %w", err)
	}
	defer tx.Rollback()
	if err := lockRing(ctx, tx, r.db); err != nil {
		return err
	}
	var rows []keyRow
	if err := tx.SelectContext(ctx, &rows, `SELECT version, state, wrapped_key, created_at, state_changed_at
		FROM security_keyring_keys WHERE wrapped_key IS NOT NULL`); err != nil {
		return fmt.Errorf("keyring: change master key: load versions: %w", err)
	}

	rewrapped := &Ring{master: next}
	for _, row := range rows {
		aad := keyAAD(uint32(row.Version))
		key, err := r.unwrap(row.Wrapped, aad)
		if err != nil {
			return fmt.Errorf("keyring: change master key: unwrap version %d: %w", row.Version, err)
		}
		if _, err := tx.ExecContext(ctx, r.db.Rebind(`UPDATE security_keyring_keys SET wrapped_key = ? WHERE version = ?`),
			rewrapped.wrap(key, aad), row.Version); err != nil {
			return fmt.Errorf("keyring: change master key: update version %d: %w", row.Version, err)
		}
	}

	var secrets []struct {
		Name    string `db:"name"`
		Wrapped []byte `db:"wrapped"`
	}
	if err := tx.SelectContext(ctx, &secrets, `SELECT name, wrapped FROM security_keyring_secrets`); err != nil {
		return fmt.Errorf("keyring: change master key: load secrets: %w", err)
	}
	for _, s := range secrets {
		secret, err := r.unwrap(s.Wrapped, secretAAD(s.Name))
		if err != nil {
			return fmt.Errorf("keyring: change master key: unwrap secret %s: %w", s.Name, err)
		}
		if _, err := tx.ExecContext(ctx, r.db.Rebind(`UPDATE security_keyring_secrets SET wrapped = ? WHERE name = ?`),
			rewrapped.wrap(secret, secretAAD(s.Name)), s.Name); err != nil {
			return fmt.Errorf("keyring: change master key: update secret %s: %w", s.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("keyring: commit master key change: %w", err)
	}
	r.mu.Lock()
	r.master = next
	r.mu.Unlock()
	r.cfg.Logger.Info("master key changed", "key_versions", len(rows))
	return nil
}
