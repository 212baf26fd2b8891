// Package sqlstore is the scheduling.Store on SQLite and PostgreSQL. One
// implementation serves both dialects and picks one at run time from the
// storage.DB it is given. The two schemas differ only in column types and
// carry the same migration numbers. Every table name starts with
// "scheduling_", so the schema can share a database with other domains.
//
// Capacity: each schedule's time is divided into grid cells, and
// scheduling_cells holds one counter row (seats, booked) per cell that
// was ever claimed. Tx.Claim takes a seat in every cell an appointment
// needs, in (schedule, cell) order, with one guarded upsert per cell:
//
//	INSERT INTO scheduling_cells (...) VALUES (..., seats, 1)
//	ON CONFLICT (schedule_id, cell_start) DO UPDATE
//	SET booked = booked + 1, seats = excluded.seats
//	WHERE scheduling_cells.booked < excluded.seats
//
// A statement that changes no row means the cell is full. PostgreSQL locks
// the conflicting row and evaluates the WHERE clause on its latest version,
// so concurrent claims of one cell queue on the row lock and exactly
// `seats` of them succeed; on SQLite writers are serialised by the
// database lock. A CHECK (booked <= seats) backs the guard.
//
// Concurrency: a Store is safe for concurrent use. Claims lock cells in
// one global order, so two bookings that need overlapping sets of actors
// cannot deadlock each other. Outbox rows are written at commit under a
// transaction-level advisory lock on PostgreSQL, so positions become
// visible in order and a subscriber reading by position never skips one.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nexus-health-360/nexus/scheduling"
	"github.com/nexus-health-360/nexus/storage"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations returns the scheduling schema migrations.
func Migrations() storage.Migrations {
	return storage.EmbeddedMigrations("scheduling", migrationFiles, "migrations")
}

// Store is the SQL scheduling.Store.
type Store struct {
	db *storage.DB
}

var _ scheduling.Store = (*Store)(nil)

// New returns a Store on db. The schema must be migrated.
func New(db *storage.DB) *Store {
	return &Store{db: db}
}

// Close does nothing; the caller owns db.
func (s *Store) Close() error { return nil }

// querier is what both a pool and a transaction offer.
type querier interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// conn is a querier of one dialect.
type conn struct {
	q       querier
	dialect storage.Dialect
}

func (c conn) rebind(query string) string {
	if c.dialect == storage.Postgres {
		return sqlx.Rebind(sqlx.DOLLAR, query)
	}
	return query
}

func (c conn) get(ctx context.Context, dest any, query string, args ...any) error {
	return mapErr(c.q.GetContext(ctx, dest, c.rebind(query), args...))
}

func (c conn) sel(ctx context.Context, dest any, query string, args ...any) error {
	return mapErr(c.q.SelectContext(ctx, dest, c.rebind(query), args...))
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := c.q.ExecContext(ctx, c.rebind(query), args...)
	return res, mapErr(err)
}

func (s *Store) reader() conn { return conn{q: s.db.Reader, dialect: s.db.Dialect} }

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// in returns "?, ?, ?" for n values.
func in(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anyOf[T any](values []T) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// actorCondition returns "(kind = ? AND id = ?) OR ..." over the actors.
func actorCondition(kindCol, idCol string, actors []scheduling.Actor) (string, []any) {
	parts := make([]string, len(actors))
	args := make([]any, 0, 2*len(actors))
	for i, a := range actors {
		parts[i] = "(" + kindCol + " = ? AND " + idCol + " = ?)"
		args = append(args, string(a.Kind), a.ID)
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// InTx runs fn in a write transaction. On PostgreSQL a serialisation or
// deadlock failure is returned as scheduling.ErrTransient so the caller
// may retry.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx scheduling.Tx) error) error {
	sqlTx, err := s.db.Writer.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", mapErr(err))
	}
	tx := &txn{c: conn{q: sqlTx, dialect: s.db.Dialect}}
	if err := fn(ctx, tx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := tx.flushEvents(ctx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

// mapErr turns driver errors the caller can act on into scheduling
// sentinels.
func mapErr(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	switch kind, label := storage.Classify(err); kind {
	case storage.ErrorUnique:
		return fmt.Errorf("%w: %s", scheduling.ErrConflict, label)
	case storage.ErrorForeignKey:
		return fmt.Errorf("referenced row missing: %w", scheduling.ErrNotFound)
	case storage.ErrorCheck:
		return fmt.Errorf("%w: %s", scheduling.ErrSlotFull, label)
	case storage.ErrorTransient, storage.ErrorLocked:
		return fmt.Errorf("%w: %s", scheduling.ErrTransient, label)
	case storage.ErrorEncoding:
		return fmt.Errorf("text is not valid UTF-8: %w", scheduling.ErrInvalid)
	}
	return err
}

func notFound(what, id string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %s: %w", what, id, scheduling.ErrNotFound)
	}
	return fmt.Errorf("read %s %s: %w", what, id, err)
}
