// Package sqlstore is the audit.Store on SQLite and PostgreSQL, picked at
// run time from the storage.DB it is given.
//
// Rows of audit_log are only inserted. Triggers reject UPDATE and DELETE
// (and TRUNCATE on PostgreSQL), so a bug or an ordinary database user
// cannot rewrite history. A database owner can drop or disable them, and
// audit verification detects what they then change.
//
// Concurrency: a Store is safe for concurrent use. Appends are serialised:
// on SQLite by the single writer connection, whose transactions take the
// write lock at BEGIN, and on PostgreSQL by a transaction-scoped advisory
// lock, so processes sharing one database append one chain.
//
// When the storage.DB has a Cipher, the checkpoint signing key's seed is
// sealed with it, and the Store implements storage.Rewrapper for that row.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/storage"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations returns the audit schema migrations.
func Migrations() storage.Migrations {
	return storage.EmbeddedMigrations("audit", migrationFiles, "migrations")
}

// Store is the SQL audit.Store.
type Store struct {
	db *storage.DB
}

var (
	_ audit.Store       = (*Store)(nil)
	_ storage.Rewrapper = (*Store)(nil)
)

// New returns a Store on db. The schema must be migrated.
func New(db *storage.DB) *Store { return &Store{db: db} }

const recordColumns = `seq, recorded, type, subtype, action, outcome, outcome_desc, agent_who, agent_client,
	agent_roles, agent_address, source, patient_id, what, query, purpose, stream, position, prev_hash, hash, mac`

// recordWidth is the number of columns in recordColumns.
const recordWidth = 21

type recordRow struct {
	Seq          int64  `db:"seq"`
	Recorded     int64  `db:"recorded"`
	Type         string `db:"type"`
	Subtype      string `db:"subtype"`
	Action       string `db:"action"`
	Outcome      string `db:"outcome"`
	OutcomeDesc  string `db:"outcome_desc"`
	AgentWho     string `db:"agent_who"`
	AgentClient  string `db:"agent_client"`
	AgentRoles   string `db:"agent_roles"`
	AgentAddress string `db:"agent_address"`
	Source       string `db:"source"`
	PatientID    string `db:"patient_id"`
	What         string `db:"what"`
	Query        string `db:"query"`
	Purpose      string `db:"purpose"`
	Stream       string `db:"stream"`
	Position     int64  `db:"position"`
	PrevHash     string `db:"prev_hash"`
	Hash         string `db:"hash"`
	MAC          string `db:"mac"`
}

func (r recordRow) record() audit.Record {
	var roles []string
	if err := json.Unmarshal([]byte(r.AgentRoles), &roles); err != nil {
		// An edited roles column still yields a record, whose hash then
		// fails verification.
		roles = []string{r.AgentRoles}
	}
	return audit.Record{
		Entry: audit.Entry{
			Seq: r.Seq, Recorded: time.UnixMicro(r.Recorded).UTC(), Type: r.Type, Subtype: r.Subtype,
			Action: audit.Action(r.Action), Outcome: audit.Outcome(r.Outcome), OutcomeDescription: r.OutcomeDesc,
			Agent:  audit.Agent{Who: r.AgentWho, Client: r.AgentClient, Roles: roles, Address: r.AgentAddress},
			Source: r.Source, Patient: r.PatientID, What: r.What, Query: r.Query, Purpose: r.Purpose,
			Stream: r.Stream, Position: r.Position,
		},
		PrevHash: r.PrevHash, Hash: r.Hash, MAC: r.MAC,
	}
}

func recordArgs(r audit.Record) ([]any, error) {
	roles := r.Agent.Roles
	if roles == nil {
		roles = []string{}
	}
	rolesJSON, err := json.Marshal(roles)
	if err != nil {
		return nil, err
	}
	return []any{r.Seq, r.Recorded.UnixMicro(), r.Type, r.Subtype, string(r.Action), string(r.Outcome),
		r.OutcomeDescription, r.Agent.Who, r.Agent.Client, string(rolesJSON), r.Agent.Address, r.Source,
		r.Patient, r.What, r.Query, r.Purpose, r.Stream, r.Position, r.PrevHash, r.Hash, r.MAC}, nil
}

// mapErr turns driver errors the caller can act on into audit sentinels.
func mapErr(err error) error {
	if kind, label := storage.Classify(err); kind == storage.ErrorUnique {
		return fmt.Errorf("%w: %s", audit.ErrConflict, label)
	}
	return err
}

// Append runs fn in a write transaction that holds the audit append lock.
func (s *Store) Append(ctx context.Context, fn func(ctx context.Context, tx audit.AppendTx) error) error {
	tx, err := s.db.Writer.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin audit append: %w", mapErr(err))
	}
	defer tx.Rollback()
	if s.db.Dialect == storage.Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('nexus.audit'))`); err != nil {
			return fmt.Errorf("take audit append lock: %w", mapErr(err))
		}
	}
	if err := fn(ctx, &appendTx{tx: tx, db: s.db}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit audit append: %w", mapErr(err))
	}
	return nil
}

type appendTx struct {
	tx *sqlx.Tx
	db *storage.DB
}

func (t *appendTx) Head(ctx context.Context) (audit.Head, error) {
	return readHead(ctx, t.tx, t.db)
}

func (t *appendTx) LastPosition(ctx context.Context, stream string) (int64, error) {
	return lastPosition(ctx, t.tx, t.db, stream)
}

// insertRows is the number of records in one INSERT, below SQLite's
// limit of 32766 host parameters.
const insertRows = 1000

func (t *appendTx) Insert(ctx context.Context, records []audit.Record, head audit.Head) error {
	for start := 0; start < len(records); start += insertRows {
		chunk := records[start:min(len(records), start+insertRows)]
		tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", recordWidth), ",") + ")"
		tuples := make([]string, len(chunk))
		args := make([]any, 0, len(chunk)*recordWidth)
		for i, r := range chunk {
			tuples[i] = tuple
			rowArgs, err := recordArgs(r)
			if err != nil {
				return fmt.Errorf("insert audit entry %d: %w", r.Seq, err)
			}
			args = append(args, rowArgs...)
		}
		query := `INSERT INTO audit_log (` + recordColumns + `) VALUES ` + strings.Join(tuples, ",")
		if _, err := t.tx.ExecContext(ctx, t.db.Rebind(query), args...); err != nil {
			return fmt.Errorf("insert audit entries from %d: %w", chunk[0].Seq, mapErr(err))
		}
	}
	_, err := t.tx.ExecContext(ctx, t.db.Rebind(`INSERT INTO audit_head (id, seq, hash, mac) VALUES (1, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac`),
		head.Seq, head.Hash, head.MAC)
	if err != nil {
		return fmt.Errorf("move audit head to %d: %w", head.Seq, mapErr(err))
	}
	return nil
}

type getter interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
}

func readHead(ctx context.Context, q getter, db *storage.DB) (audit.Head, error) {
	var h struct {
		Seq  int64  `db:"seq"`
		Hash string `db:"hash"`
		MAC  string `db:"mac"`
	}
	err := q.GetContext(ctx, &h, `SELECT seq, hash, mac FROM audit_head WHERE id = 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Head{Hash: audit.GenesisHash}, nil
	}
	if err != nil {
		return audit.Head{}, fmt.Errorf("read audit head: %w", mapErr(err))
	}
	return audit.Head{Seq: h.Seq, Hash: h.Hash, MAC: h.MAC}, nil
}

func lastPosition(ctx context.Context, q getter, db *storage.DB, stream string) (int64, error) {
	var pos int64
	err := q.GetContext(ctx, &pos, db.Rebind(`SELECT COALESCE(MAX(position), 0) FROM audit_log WHERE stream = ?`), stream)
	if err != nil {
		return 0, fmt.Errorf("read last audit position of %s: %w", stream, mapErr(err))
	}
	return pos, nil
}

// Head returns the chain head.
func (s *Store) Head(ctx context.Context) (audit.Head, error) {
	return readHead(ctx, s.db.Reader, s.db)
}

// LastPosition returns the highest stored position of stream.
func (s *Store) LastPosition(ctx context.Context, stream string) (int64, error) {
	return lastPosition(ctx, s.db.Reader, s.db, stream)
}

func (s *Store) selectRecords(ctx context.Context, query string, args ...any) ([]audit.Record, error) {
	var rows []recordRow
	if err := s.db.Reader.SelectContext(ctx, &rows, s.db.Rebind(query), args...); err != nil {
		return nil, mapErr(err)
	}
	out := make([]audit.Record, len(rows))
	for i, row := range rows {
		out[i] = row.record()
	}
	return out, nil
}

// Scan returns records after seq after, in seq order.
func (s *Store) Scan(ctx context.Context, after int64, limit int) ([]audit.Record, error) {
	records, err := s.selectRecords(ctx, `SELECT `+recordColumns+` FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("scan audit log after %d: %w", after, err)
	}
	return records, nil
}

// FindHash returns the lowest seq of a record with hash.
func (s *Store) FindHash(ctx context.Context, hash string) (int64, error) {
	var seq int64
	err := s.db.Reader.GetContext(ctx, &seq, s.db.Rebind(`SELECT seq FROM audit_log WHERE hash = ? ORDER BY seq LIMIT 1`), hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find audit hash: %w", audit.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("find audit hash: %w", mapErr(err))
	}
	return seq, nil
}

// ByPatient returns records about patient, newest first.
func (s *Store) ByPatient(ctx context.Context, patient string, before int64, limit int) ([]audit.Record, error) {
	query := `SELECT ` + recordColumns + ` FROM audit_log WHERE patient_id = ?`
	args := []any{patient}
	if before > 0 {
		query += ` AND seq < ?`
		args = append(args, before)
	}
	query += ` ORDER BY seq DESC LIMIT ?`
	records, err := s.selectRecords(ctx, query, append(args, limit)...)
	if err != nil {
		// The patient id is left out of the message, as patient data.
		return nil, fmt.Errorf("read access log: %w", err)
	}
	return records, nil
}
