package keyring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nexus-health-360/nexus/storage"
)

// RewrapProgress is the saved state of one store's rewrap.
type RewrapProgress struct {
	Component string
	// TargetVersion is the active version the rewrap moves rows to. A
	// rotation starts a new pass from the beginning.
	TargetVersion uint32
	// Cursor is the store's position after the last committed batch. A
	// later Rewrap continues from it, so rows written after the pass
	// reached the end, for example by a process still sealing under an
	// older version, are rewrapped too.
	Cursor int64
	// Done reports that the last Rewrap reached the end of the store.
	Done bool
	// Rewrapped counts the rows rewrapped to TargetVersion by all runs.
	Rewrapped int64
	// RewrappedThisRun counts the rows rewrapped by the Rewrap call that
	// returned this value. It is not saved.
	RewrappedThisRun int64
	UpdatedAt        time.Time
}

type progressRow struct {
	Component string `db:"component"`
	Target    int64  `db:"target_version"`
	Cursor    int64  `db:"cursor"`
	Done      bool   `db:"done"`
	Rewrapped int64  `db:"rewrapped"`
	UpdatedAt int64  `db:"updated_at"`
}

// Progress returns the saved rewrap state of component, with Done false
// and a zero cursor when no pass has run yet.
func (r *Ring) Progress(ctx context.Context, component string) (RewrapProgress, error) {
	return ReadProgress(ctx, r.db, component)
}

// ReadProgress returns the saved rewrap state of component in db, like
// Ring.Progress, without the master key.
func ReadProgress(ctx context.Context, db *storage.DB, component string) (RewrapProgress, error) {
	var row progressRow
	err := db.Reader.GetContext(ctx, &row, db.Rebind(`SELECT component, target_version, cursor, done, rewrapped, updated_at
		FROM security_keyring_rewrap WHERE component = ?`), component)
	if errors.Is(err, sql.ErrNoRows) {
		return RewrapProgress{Component: component}, nil
	}
	if err != nil {
		return RewrapProgress{}, fmt.Errorf("keyring: read rewrap progress of %s: %w", component, err)
	}
	return RewrapProgress{
		Component: row.Component, TargetVersion: uint32(row.Target), Cursor: row.Cursor, Done: row.Done,
		Rewrapped: row.Rewrapped, UpdatedAt: time.UnixMicro(row.UpdatedAt).UTC(),
	}, nil
}

func (r *Ring) saveProgress(ctx context.Context, p RewrapProgress) error {
	_, err := r.db.Writer.ExecContext(ctx, r.db.Rebind(`INSERT INTO security_keyring_rewrap
		(component, target_version, cursor, done, rewrapped, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (component) DO UPDATE SET target_version = excluded.target_version, cursor = excluded.cursor,
			done = excluded.done, rewrapped = excluded.rewrapped, updated_at = excluded.updated_at`),
		p.Component, p.TargetVersion, p.Cursor, p.Done, p.Rewrapped, r.cfg.Now().UTC().UnixMicro())
	if err != nil {
		return fmt.Errorf("keyring: save rewrap progress of %s: %w", p.Component, err)
	}
	return nil
}

// Rewrap moves the rows of store to the active key version in batches of
// Config.RewrapBatch, from the saved cursor to the end of the store. It
// saves the cursor after each batch, so that a later call resumes where
// this one stopped and reads only rows added since. It returns when it
// reaches the end or ctx ends. Running it on two processes at once is safe
// but wasteful: each batch seals only rows that still need it.
//
// A row can be left behind the cursor, under an older version: a process
// that had not reloaded since a rotation may commit it there (on
// PostgreSQL a row's position is taken before its commit). Retire counts
// such rows and rejects the version; RewrapFromStart then finds them.
func (r *Ring) Rewrap(ctx context.Context, store storage.Rewrapper) (RewrapProgress, error) {
	return r.rewrap(ctx, store, false)
}

// RewrapFromStart runs Rewrap from the first row of store, ignoring the
// saved cursor, so that it finds every row under an older version
// wherever it is. It is the pass to run before Retire.
func (r *Ring) RewrapFromStart(ctx context.Context, store storage.Rewrapper) (RewrapProgress, error) {
	return r.rewrap(ctx, store, true)
}

func (r *Ring) rewrap(ctx context.Context, store storage.Rewrapper, fromStart bool) (RewrapProgress, error) {
	p, err := r.Progress(ctx, store.Component())
	if err != nil {
		return p, err
	}
	active := r.ActiveKeyVersion()
	if p.TargetVersion != active {
		p = RewrapProgress{Component: store.Component(), TargetVersion: active}
	}
	if fromStart {
		p.Cursor = 0
	}
	for {
		res, err := store.RewrapBatch(ctx, storage.RewrapParams{After: p.Cursor, Limit: r.cfg.RewrapBatch})
		if err != nil {
			return p, fmt.Errorf("keyring: rewrap %s after %d: %w", store.Component(), p.Cursor, err)
		}
		p.Cursor, p.Done = res.Next, res.Done
		p.Rewrapped += int64(res.Rewrapped)
		p.RewrappedThisRun += int64(res.Rewrapped)
		// A rotation during the pass starts a new pass from the start,
		// because the rows already passed are now under an older version.
		if now := r.ActiveKeyVersion(); now != p.TargetVersion {
			p = RewrapProgress{Component: store.Component(), TargetVersion: now, RewrappedThisRun: p.RewrappedThisRun}
		}
		if err := r.saveProgress(ctx, p); err != nil {
			return p, err
		}
		if p.Done {
			if p.RewrappedThisRun > 0 {
				r.cfg.Logger.Info("rewrap reached the end", "component", p.Component, "target_version", p.TargetVersion,
					"rewrapped", p.RewrappedThisRun)
			}
			return p, nil
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(r.cfg.RewrapPause):
		}
	}
}

// RunBackground reloads the key versions every Config.RefreshInterval and
// runs Rewrap on each store whose rows may still use an older version. It
// returns when ctx ends. Errors are logged and retried at the next tick.
func (r *Ring) RunBackground(ctx context.Context, stores ...storage.Rewrapper) {
	for {
		if err := r.Reload(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Error("reloading key versions failed", "err", err)
		}
		for _, s := range stores {
			if _, err := r.Rewrap(ctx, s); err != nil && ctx.Err() == nil {
				r.cfg.Logger.Error("rewrap failed; retrying later", "component", s.Component(), "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.cfg.RefreshInterval):
		}
	}
}
