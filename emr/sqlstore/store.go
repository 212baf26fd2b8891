// Package sqlstore is the emr.Store on SQLite and PostgreSQL. One
// implementation serves both dialects and picks one at run time from the
// storage.DB it is given. The two schemas differ only in column types and
// carry the same migration numbers.
//
// Each resource has one row in resources, pointing at its current version
// in resource_versions, which only ever grows. Search index rows exist for
// current, non-deleted versions only and are replaced on every write.
//
// Store.Load writes many first versions with multi-row statements, for
// loading data in bulk. It skips what emr.Service adds to a write, such
// as validation and outbox events, so its callers prepare each emr.Put.
//
// Concurrency: a Store is safe for concurrent use. On SQLite every write
// transaction holds the database write lock from its start, so writers are
// serialised. On PostgreSQL Tx.Read takes a row lock (SELECT ... FOR
// UPDATE) and Tx.Lock an advisory transaction lock; unique constraints
// reject what slips past them, reported as emr.ErrConflict.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/storage"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations returns the emr schema migrations.
func Migrations() storage.Migrations {
	return storage.EmbeddedMigrations("emr", migrationFiles, "migrations")
}

// Store is the SQL emr.Store.
type Store struct {
	db *storage.DB

	// readStmt is the read-by-id query, the most frequent one. Compiling
	// it costs SQLite more than running it, so it is prepared once;
	// database/sql prepares it again on each pooled connection as needed.
	prepareOnce sync.Once
	readStmt    *sql.Stmt
}

const readQuery = selectVersion + ` FROM resources r JOIN resource_versions v ON v.seq = r.seq WHERE r.res_type = ? AND r.res_id = ?`

var _ emr.Store = (*Store)(nil)

// New returns a Store on db. The schema must be migrated.
func New(db *storage.DB) *Store {
	return &Store{db: db}
}

// Close releases the prepared statement; the caller owns db.
func (s *Store) Close() error {
	if s.readStmt != nil {
		return s.readStmt.Close()
	}
	return nil
}

// querier is the query interface of both a pool and a transaction.
type querier interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

type versionRow struct {
	Type        string         `db:"res_type"`
	ID          string         `db:"res_id"`
	VersionID   int64          `db:"version_id"`
	LastUpdated int64          `db:"last_updated"`
	Method      string         `db:"method"`
	Author      string         `db:"author"`
	Body        []byte         `db:"body"`
	Seq         int64          `db:"seq"`
	Rid         sql.NullInt64  `db:"rid"`
	Hash        sql.NullString `db:"content_hash"`
}

func (r versionRow) resource() emr.Resource {
	return emr.Resource{
		Type:        r.Type,
		ID:          r.ID,
		VersionID:   r.VersionID,
		LastUpdated: time.UnixMicro(r.LastUpdated).UTC(),
		Deleted:     r.Method == "delete",
		Body:        r.Body,
		Author:      r.Author,
		Method:      r.Method,
		ContentHash: r.Hash.String,
	}
}

const selectVersion = `SELECT v.res_type, v.res_id, v.version_id, v.last_updated, v.method, v.author, v.body, v.seq, v.content_hash`

func (s *Store) Read(ctx context.Context, typ, id string) (*emr.Resource, error) {
	if emr.AccessFromContext(ctx) != nil {
		return s.codec().openResource(readCurrent(ctx, s.db.Reader, s.db, typ, id, false))
	}
	s.prepareOnce.Do(func() {
		st, err := s.db.Reader.PrepareContext(context.Background(), s.db.Rebind(readQuery))
		if err == nil {
			s.readStmt = st
		}
	})
	if s.readStmt == nil {
		return s.codec().openResource(readCurrent(ctx, s.db.Reader, s.db, typ, id, false))
	}
	return s.codec().openResource(scanCurrent(s.readStmt.QueryRowContext(ctx, typ, id), typ, id))
}

// scanner is a *sql.Row or a *sqlx.Row.
type scanner interface{ Scan(dest ...any) error }

func scanCurrent(row scanner, typ, id string) (*emr.Resource, error) {
	var v versionRow
	// A plain Scan: sqlx's reflection-based mapping costs more than the
	// query itself on SQLite.
	err := row.Scan(&v.Type, &v.ID, &v.VersionID, &v.LastUpdated, &v.Method, &v.Author, &v.Body, &v.Seq, &v.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read %s/%s: %w", typ, id, emr.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", typ, id, err)
	}
	res := v.resource()
	return &res, nil
}

func readCurrent(ctx context.Context, q querier, db *storage.DB, typ, id string, lock bool) (*emr.Resource, error) {
	if lock && db.Dialect == storage.Postgres {
		// Lock the row first: a locking read of the join would skip a row
		// whose seq changed while it waited for the lock.
		var rid int64
		err := q.GetContext(ctx, &rid, `SELECT rid FROM resources WHERE res_type = $1 AND res_id = $2 FOR UPDATE`, typ, id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("read %s/%s: %w", typ, id, emr.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s/%s: %w", typ, id, mapErr(err))
		}
	}
	var b sqlBuilder
	b.write(readQuery, typ, id)
	writeAccess(&b, emr.AccessFromContext(ctx), "r", typ, false, true)
	return scanCurrent(q.QueryRowxContext(ctx, db.Rebind(b.sb.String()), b.args...), typ, id)
}

func (s *Store) ReadVersion(ctx context.Context, typ, id string, version int64) (*emr.Resource, error) {
	return s.codec().openResource(readVersion(ctx, s.db.Reader, s.db, typ, id, version))
}

func readVersion(ctx context.Context, q querier, db *storage.DB, typ, id string, version int64) (*emr.Resource, error) {
	var b sqlBuilder
	b.write(selectVersion+` FROM resource_versions v WHERE v.res_type = ? AND v.res_id = ? AND v.version_id = ?`, typ, id, version)
	writeVersionAccess(&b, emr.AccessFromContext(ctx), "v", typ)
	var row versionRow
	err := q.GetContext(ctx, &row, db.Rebind(b.sb.String()), b.args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read %s/%s version %d: %w", typ, id, version, emr.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s/%s version %d: %w", typ, id, version, err)
	}
	res := row.resource()
	return &res, nil
}

func (s *Store) History(ctx context.Context, q emr.HistoryQuery) (*emr.HistoryPage, error) {
	var where []string
	var args []any
	if q.Type != "" {
		where = append(where, "v.res_type = ?")
		args = append(args, q.Type)
	}
	if q.ID != "" {
		where = append(where, "v.res_id = ?")
		args = append(args, q.ID)
	}
	if !q.Since.IsZero() {
		where = append(where, "v.last_updated >= ?")
		args = append(args, q.Since.UnixMicro())
	}
	if q.Before > 0 {
		where = append(where, "v.seq < ?")
		args = append(args, q.Before)
	}
	var access sqlBuilder
	writeVersionAccess(&access, emr.AccessFromContext(ctx), "v", q.Type)
	if access.sb.Len() > 0 {
		where = append(where, strings.TrimPrefix(access.sb.String(), " AND "))
		args = append(args, access.args...)
	}
	count := q.Count
	if count <= 0 {
		count = 50
	}
	query := selectVersion + ` FROM resource_versions v`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY v.seq DESC LIMIT %d", count+1)
	var rows []versionRow
	if err := s.db.Reader.SelectContext(ctx, &rows, s.db.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	page := &emr.HistoryPage{}
	if len(rows) > count {
		rows = rows[:count]
		page.Next = rows[count-1].Seq
	}
	for _, r := range rows {
		page.Versions = append(page.Versions, r.resource())
	}
	return s.codec().openHistory(page, nil)
}

func (s *Store) Search(ctx context.Context, q emr.Query) (*emr.Page, error) {
	return s.codec().openPage(search(ctx, s.db.Reader, s.db.Dialect, s.codec().query(q)))
}

func (s *Store) MatchCandidates(ctx context.Context, keys []string, limit int) ([]string, error) {
	return matchCandidates(ctx, s.db.Reader, s.db, s.codec().hashMatchKeys(keys), limit)
}

func matchCandidates(ctx context.Context, q querier, db *storage.DB, keys []string, limit int) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var access sqlBuilder
	writeAccess(&access, emr.AccessFromContext(ctx), "r", "Patient", false, false)
	query, args, err := sqlx.In(`SELECT r.res_id FROM mpi_keys k JOIN resources r ON r.rid = k.rid
		WHERE k.key IN (?) AND r.deleted = ?`+access.sb.String()+` GROUP BY r.res_id ORDER BY COUNT(*) DESC, r.res_id LIMIT ?`,
		append(append([]any{keys, falseValue(db.Dialect)}, access.args...), limit)...)
	if err != nil {
		return nil, fmt.Errorf("match candidates: %w", err)
	}
	var ids []string
	if err := q.SelectContext(ctx, &ids, db.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("match candidates: %w", err)
	}
	return ids, nil
}

func falseValue(d storage.Dialect) any {
	if d == storage.Postgres {
		return false
	}
	return 0
}

func (s *Store) Events(ctx context.Context, after int64, limit int) ([]emr.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	var rows []struct {
		Position  int64  `db:"position"`
		Topic     string `db:"topic"`
		Type      string `db:"res_type"`
		ID        string `db:"res_id"`
		Version   int64  `db:"version_id"`
		Author    string `db:"author"`
		CreatedAt int64  `db:"created_at"`
		Data      string `db:"data"`
	}
	err := s.db.Reader.SelectContext(ctx, &rows, s.db.Rebind(
		`SELECT position, topic, res_type, res_id, version_id, author, created_at, data FROM outbox
		WHERE position > ? ORDER BY position LIMIT ?`), after, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	out := make([]emr.Event, len(rows))
	for i, r := range rows {
		out[i] = emr.Event{Position: r.Position, Topic: r.Topic, Type: r.Type, ID: r.ID, Version: r.Version,
			Author: r.Author, Time: time.UnixMicro(r.CreatedAt).UTC(), Data: []byte(r.Data)}
	}
	return out, nil
}

// InTx runs fn in a write transaction. On PostgreSQL a serialisation or
// deadlock failure is returned as emr.ErrConflict so the caller may retry.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx emr.Tx) error) error {
	sqlTx, err := s.db.Writer.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", mapErr(err))
	}
	tx := &txn{tx: sqlTx, db: s.db}
	if err := fn(ctx, tx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := tx.flush(ctx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	s.db.NoteWrites(tx.puts)
	return nil
}

// mapErr turns driver errors the caller can act on into emr sentinels.
func mapErr(err error) error {
	switch kind, label := storage.Classify(err); kind {
	case storage.ErrorUnique:
		return fmt.Errorf("%w: %s", emr.ErrConflict, label)
	case storage.ErrorTransient:
		return fmt.Errorf("%w: %s", emr.ErrTransient, label)
	case storage.ErrorEncoding:
		return fmt.Errorf("%w: text is not valid UTF-8", emr.ErrInvalid)
	}
	return err
}
