// Package sqlstore is the billing.Store on SQLite and PostgreSQL. One
// implementation serves both dialects and picks one at run time from the
// storage.DB it is given. The two schemas differ only in column types and
// trigger syntax, and carry the same migration numbers. Every table name
// starts with "billing_", so the schema can share a database with other
// domains.
//
// The schema enforces the billing invariants on its own, whichever door
// the data came in through:
//
//   - Invoice numbers come from billing_number_sequences, one counter row
//     per facility and kind incremented by an upsert in the issuing
//     transaction. The row stays locked until commit, and a rollback
//     returns the number, so numbers have no gaps; a unique index rejects
//     repeats.
//   - Issuing is a guarded UPDATE that applies only to a draft at the
//     expected version whose totals equal the sums of its lines.
//   - Triggers reject any change to the number, totals or owner of an
//     issued invoice, any change to invoice lines, charges and ledger
//     entries, and new lines on an invoice that is not a draft.
//   - Each ledger row moves a positive amount between two different
//     books, so every row balances on its own. billing_balances keeps the
//     running receivable of each invoice and the credit of each account,
//     moved in the same transaction by guarded updates, with a CHECK that
//     rejects a balance below zero. An update never adds to a balance
//     in another currency.
//   - A trigger on each ledger entry checks that it is in its account's
//     currency, and that the invoice it names exists, belongs to the
//     same account and is in the same currency. Every currency column
//     holds three upper-case letters (a CHECK on PostgreSQL, triggers on
//     SQLite).
//
// Concurrency: a Store is safe for concurrent use. On PostgreSQL, Tx
// reads of accounts, invoices and claims lock the row (SELECT ... FOR
// UPDATE), except ListInvoices, which locks nothing; on SQLite writers
// are serialised by the database lock. Every Tx method runs on the
// transaction's own connection and never takes a second one from the
// pool. Outbox rows are written at commit under a transaction-level
// advisory lock on PostgreSQL, so positions become visible in order.
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

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/storage"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations returns the billing schema migrations.
func Migrations() storage.Migrations {
	return storage.EmbeddedMigrations("billing", migrationFiles, "migrations")
}

// Store is the SQL billing.Store.
type Store struct {
	db *storage.DB
}

var _ billing.Store = (*Store)(nil)

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

// conn is a querier of one dialect. lock is true inside a write
// transaction on PostgreSQL, where reads of rows the transaction will
// change take a row lock.
type conn struct {
	q       querier
	dialect storage.Dialect
	lock    bool
}

func (c conn) rebind(query string) string {
	if c.dialect == storage.Postgres {
		return sqlx.Rebind(sqlx.DOLLAR, query)
	}
	return query
}

func (c conn) forUpdate() string {
	if c.lock {
		return " FOR UPDATE"
	}
	return ""
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

// InTx runs fn in a write transaction. On PostgreSQL a serialisation or
// deadlock failure is returned as billing.ErrTransient so the caller may
// retry.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx billing.Tx) error) error {
	sqlTx, err := s.db.Writer.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", mapErr(err))
	}
	tx := &txn{c: conn{q: sqlTx, dialect: s.db.Dialect, lock: s.db.Dialect == storage.Postgres}}
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

// mapErr turns driver errors the caller can act on into billing
// sentinels.
func mapErr(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	// Triggers raise errors whose message starts with a billing_ label.
	switch msg := err.Error(); {
	case strings.Contains(msg, "billing_immutable"):
		return fmt.Errorf("issued or posted records cannot change: %w", billing.ErrConflict)
	case strings.Contains(msg, "billing_invoice_missing"):
		return fmt.Errorf("ledger entry names no stored invoice: %w", billing.ErrNotFound)
	case strings.Contains(msg, "billing_invoice_owner"):
		return fmt.Errorf("ledger entry names an invoice of another account: %w", billing.ErrInvalid)
	case strings.Contains(msg, "billing_currency_mismatch"):
		return fmt.Errorf("ledger entry is not in the currency of its account or invoice: %w", billing.ErrCurrencyMismatch)
	case strings.Contains(msg, "billing_currency_code"):
		return fmt.Errorf("currency code is not three upper-case letters: %w", billing.ErrInvalid)
	}
	switch kind, label := storage.Classify(err); kind {
	case storage.ErrorUnique:
		return fmt.Errorf("%w: %s", billing.ErrConflict, label)
	case storage.ErrorForeignKey:
		return fmt.Errorf("referenced row missing: %w", billing.ErrNotFound)
	case storage.ErrorCheck:
		return fmt.Errorf("%w: %s", billing.ErrInvalid, label)
	case storage.ErrorTransient, storage.ErrorLocked:
		return fmt.Errorf("%w: %s", billing.ErrTransient, label)
	case storage.ErrorEncoding:
		return fmt.Errorf("text is not valid UTF-8: %w", billing.ErrInvalid)
	}
	return err
}

func notFound(what, id string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %s: %w", what, id, billing.ErrNotFound)
	}
	return fmt.Errorf("read %s %s: %w", what, id, err)
}
