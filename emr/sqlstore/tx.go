package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/searchparam"
	"github.com/nexus-health-360/nexus/storage"
)

// txn is an emr.Tx. Search index rows are buffered and written in a few
// multi-row statements before the next read of the index and at commit,
// which makes bundle imports several times faster than one statement per
// row.
type txn struct {
	tx      *sqlx.Tx
	db      *storage.DB
	pending map[int64][]searchparam.Entry
	order   []int64
	types   map[int64]string
	// events are outbox rows written at the next flush, in order.
	events []emr.Event
	// versionPatients are version_patients rows written at the next
	// flush, as sequence number and patient id pairs.
	versionPatients []any
	// unflushed contains "type/id" of the resources written since the last
	// flush, whose index and compartment rows a restricted read needs.
	unflushed map[string]bool
	// puts counts the versions written, reported to the DB after commit.
	puts int
}

var _ emr.Tx = (*txn)(nil)

// flushFor writes buffered rows before a read under an Access of a
// resource written in this transaction, because the access filter reads
// its index and compartment rows.
func (t *txn) flushFor(ctx context.Context, typ, id string) error {
	if emr.AccessFromContext(ctx) == nil || !t.unflushed[typ+"/"+id] {
		return nil
	}
	return t.flush(ctx)
}

func (t *txn) Read(ctx context.Context, typ, id string) (*emr.Resource, error) {
	if err := t.flushFor(ctx, typ, id); err != nil {
		return nil, err
	}
	if t.db.Dialect == storage.Postgres || emr.AccessFromContext(ctx) != nil {
		return t.codec().openResource(readCurrent(ctx, t.tx, t.db, typ, id, true))
	}
	var row versionRow
	err := t.tx.GetContext(ctx, &row, t.db.Rebind(readQuery), typ, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read %s/%s: %w", typ, id, emr.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", typ, id, err)
	}
	res := row.resource()
	return t.codec().openResource(&res, nil)
}

func (t *txn) ReadVersion(ctx context.Context, typ, id string, version int64) (*emr.Resource, error) {
	if err := t.flushFor(ctx, typ, id); err != nil {
		return nil, err
	}
	return t.codec().openResource(readVersion(ctx, t.tx, t.db, typ, id, version))
}

func (t *txn) HasContent(ctx context.Context, typ, id, hash string) (bool, error) {
	var n int
	err := t.tx.GetContext(ctx, &n, t.db.Rebind(
		`SELECT COUNT(*) FROM resource_versions WHERE res_type = ? AND res_id = ? AND content_hash = ?`), typ, id, hash)
	if err != nil {
		return false, fmt.Errorf("check content of %s/%s: %w", typ, id, err)
	}
	return n > 0, nil
}

func (t *txn) Put(ctx context.Context, p emr.Put) error {
	r := p.Resource
	t.puts++
	op := fmt.Sprintf("store %s/%s version %d", r.Type, r.ID, r.VersionID)
	body, err := t.codec().sealBody(r)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	seq, rid, err := t.insertVersion(ctx, r, p.ContentHash, body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, mapErr(err))
	}
	if r.VersionID > 1 {
		if err := t.clearIndex(ctx, rid); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	for _, patient := range p.Patients {
		t.versionPatients = append(t.versionPatients, seq, patient)
	}
	if t.unflushed == nil {
		t.unflushed = map[string]bool{}
	}
	t.unflushed[r.Type+"/"+r.ID] = true
	if r.Deleted {
		return nil
	}
	for _, id := range p.Identifiers {
		_, err := t.tx.ExecContext(ctx, t.db.Rebind(
			`INSERT INTO patient_identifiers (system, value, rid) VALUES (?, ?, ?)`), id.System, t.codec().hashIdentifier(id.Value), rid)
		if err != nil {
			if err = mapErr(err); errors.Is(err, emr.ErrConflict) {
				return fmt.Errorf("%s: identifier of system %s: %w", op, id.System, emr.ErrIdentifierInUse)
			}
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	if len(p.MatchKeys) > 0 {
		if err := t.insertKeys(ctx, rid, t.codec().hashMatchKeys(p.MatchKeys)); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	if len(p.Index) > 0 {
		if t.pending == nil {
			t.pending = map[int64][]searchparam.Entry{}
			t.types = map[int64]string{}
		}
		if _, ok := t.pending[rid]; !ok {
			t.order = append(t.order, rid)
		}
		t.pending[rid] = t.codec().hashIndex(p.Index)
		t.types[rid] = r.Type
	}
	return nil
}

// insertVersion stores the version row of r and makes it the current one
// of its resource. It returns the version's sequence number and the
// resource's row key. PostgreSQL gets both rows in one statement.
func (t *txn) insertVersion(ctx context.Context, r emr.Resource, contentHash string, body any) (seq, rid int64, err error) {
	if t.db.Dialect == storage.Postgres {
		row := struct {
			Seq int64 `db:"seq"`
			Rid int64 `db:"rid"`
		}{}
		err = t.tx.GetContext(ctx, &row, `WITH v AS (
			INSERT INTO resource_versions (res_type, res_id, version_id, last_updated, method, author, content_hash, body)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq)
		INSERT INTO resources (res_type, res_id, version_id, seq, last_updated, deleted)
		SELECT $1, $2, $3, v.seq, $4, $9 FROM v
		ON CONFLICT (res_type, res_id) DO UPDATE SET version_id = excluded.version_id, seq = excluded.seq,
			last_updated = excluded.last_updated, deleted = excluded.deleted
		RETURNING rid, seq`,
			r.Type, r.ID, r.VersionID, r.LastUpdated.UnixMicro(), r.Method, r.Author, contentHash, body, r.Deleted)
		return row.Seq, row.Rid, err
	}

	err = t.tx.GetContext(ctx, &seq, `INSERT INTO resource_versions (res_type, res_id, version_id, last_updated, method, author, content_hash, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		r.Type, r.ID, r.VersionID, r.LastUpdated.UnixMicro(), r.Method, r.Author, contentHash, body)
	if err != nil {
		return 0, 0, err
	}
	deleted := 0
	if r.Deleted {
		deleted = 1
	}
	err = t.tx.GetContext(ctx, &rid, `INSERT INTO resources (res_type, res_id, version_id, seq, last_updated, deleted) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (res_type, res_id) DO UPDATE SET version_id = excluded.version_id, seq = excluded.seq,
			last_updated = excluded.last_updated, deleted = excluded.deleted
		RETURNING rid`,
		r.Type, r.ID, r.VersionID, seq, r.LastUpdated.UnixMicro(), deleted)
	return seq, rid, err
}

var indexTables = []string{"idx_string", "idx_token", "idx_date", "idx_reference", "idx_number", "idx_uri", "patient_identifiers", "mpi_keys"}

// clearIndexPostgres is the statement that deletes a resource's rows of
// every index table at once, with one data-modifying CTE per table.
var clearIndexPostgres = func() string {
	var ctes []string
	for i, table := range indexTables[:len(indexTables)-1] {
		ctes = append(ctes, fmt.Sprintf("d%d AS (DELETE FROM %s WHERE rid = $1)", i, table))
	}
	return "WITH " + strings.Join(ctes, ", ") + " DELETE FROM " + indexTables[len(indexTables)-1] + " WHERE rid = $1"
}()

func (t *txn) clearIndex(ctx context.Context, rid int64) error {
	if t.pending != nil {
		delete(t.pending, rid)
	}
	if t.db.Dialect == storage.Postgres {
		if _, err := t.tx.ExecContext(ctx, clearIndexPostgres, rid); err != nil {
			return fmt.Errorf("clear index rows: %w", err)
		}
		return nil
	}
	for _, table := range indexTables {
		if _, err := t.tx.ExecContext(ctx, t.db.Rebind(`DELETE FROM `+table+` WHERE rid = ?`), rid); err != nil {
			return fmt.Errorf("clear %s: %w", table, err)
		}
	}
	return nil
}

func (t *txn) insertKeys(ctx context.Context, rid int64, keys []string) error {
	seen := map[string]bool{}
	var b rowBatch
	b.start(`INSERT INTO mpi_keys (key, rid) VALUES `, "text", "bigint")
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		if err := b.addFlush(ctx, t, k, rid); err != nil {
			return err
		}
	}
	return b.exec(ctx, t)
}

// flush writes the buffered index rows.
func (t *txn) flush(ctx context.Context) error {
	if err := t.flushEvents(ctx); err != nil {
		return err
	}
	if err := t.flushVersionPatients(ctx); err != nil {
		return err
	}
	t.unflushed = nil
	if len(t.order) == 0 {
		return nil
	}
	batches := map[searchparam.Type]*rowBatch{}
	get := func(typ searchparam.Type) *rowBatch {
		b := batches[typ]
		if b == nil {
			b = &rowBatch{}
			switch typ {
			case searchparam.TypeString:
				b.start(`INSERT INTO idx_string (rid, res_type, param, text, exact) VALUES `, "bigint", "text", "text", "text", "text")
			case searchparam.TypeToken:
				b.start(`INSERT INTO idx_token (rid, res_type, param, system, code, text) VALUES `,
					"bigint", "text", "text", "text", "text", "text")
			case searchparam.TypeDate:
				b.start(`INSERT INTO idx_date (rid, res_type, param, lo, hi) VALUES `, "bigint", "text", "text", "bigint", "bigint")
			case searchparam.TypeReference:
				b.start(`INSERT INTO idx_reference (rid, res_type, param, ref_type, ref_id, ref_version, exact) VALUES `,
					"bigint", "text", "text", "text", "text", "text", "text")
			case searchparam.TypeNumber:
				b.start(`INSERT INTO idx_number (rid, res_type, param, num, lo, hi, system, code) VALUES `,
					"bigint", "text", "text", "double precision", "double precision", "double precision", "text", "text")
			case searchparam.TypeURI:
				b.start(`INSERT INTO idx_uri (rid, res_type, param, uri) VALUES `, "bigint", "text", "text", "text")
			}
			// Extract removes duplicate entries; this keeps a duplicate
			// that slipped through from failing the write.
			b.suffix = " ON CONFLICT DO NOTHING"
			batches[typ] = b
		}
		return b
	}
	for _, rid := range t.order {
		entries, ok := t.pending[rid]
		if !ok {
			continue
		}
		typ := t.types[rid]
		for _, e := range entries {
			switch e.Type {
			case searchparam.TypeString:
				err := get(e.Type).addFlush(ctx, t, rid, typ, e.Param, e.Text, e.Exact)
				if err != nil {
					return err
				}
			case searchparam.TypeToken:
				if err := get(e.Type).addFlush(ctx, t, rid, typ, e.Param, e.System, e.Code, e.Text); err != nil {
					return err
				}
			case searchparam.TypeDate:
				if err := get(e.Type).addFlush(ctx, t, rid, typ, e.Param, e.DateLo, e.DateHi); err != nil {
					return err
				}
			case searchparam.TypeReference:
				if err := get(e.Type).addFlush(ctx, t, rid, typ, e.Param, e.RefType, e.RefID, e.RefVersion, e.Exact); err != nil {
					return err
				}
			case searchparam.TypeNumber, searchparam.TypeQuantity:
				if err := get(searchparam.TypeNumber).addFlush(ctx, t, rid, typ, e.Param, e.Num, e.NumLo, e.NumHi, e.System, e.Code); err != nil {
					return err
				}
			case searchparam.TypeURI:
				if err := get(e.Type).addFlush(ctx, t, rid, typ, e.Param, e.Exact); err != nil {
					return err
				}
			}
		}
	}
	for _, b := range batches {
		if err := b.exec(ctx, t); err != nil {
			return err
		}
	}
	t.pending = nil
	t.order = nil
	t.types = nil
	return nil
}

func (t *txn) Search(ctx context.Context, q emr.Query) (*emr.Page, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.codec().openPage(search(ctx, t.tx, t.db.Dialect, t.codec().query(q)))
}

func (t *txn) MatchCandidates(ctx context.Context, keys []string, limit int) ([]string, error) {
	return matchCandidates(ctx, t.tx, t.db, t.codec().hashMatchKeys(keys), limit)
}

func (t *txn) Lock(ctx context.Context, name string) error {
	if t.db.Dialect != storage.Postgres {
		return nil // the SQLite write transaction already excludes other writers
	}
	if _, err := t.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, name); err != nil {
		// The name may hold search values, so it is not in the message.
		return fmt.Errorf("take lock: %w", mapErr(err))
	}
	return nil
}

func (t *txn) NextValue(ctx context.Context, sequence string) (int64, error) {
	var v int64
	err := t.tx.GetContext(ctx, &v, t.db.Rebind(
		`INSERT INTO sequences (name, value) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET value = sequences.value + 1 RETURNING value`), sequence)
	if err != nil {
		return 0, fmt.Errorf("next value of %s: %w", sequence, mapErr(err))
	}
	return v, nil
}

// Emit buffers the event; flush writes it before commit.
func (t *txn) Emit(ctx context.Context, e emr.Event) error {
	t.events = append(t.events, e)
	return nil
}

func (t *txn) flushEvents(ctx context.Context) error {
	if len(t.events) == 0 {
		return nil
	}
	var b rowBatch
	b.start(`INSERT INTO outbox (topic, res_type, res_id, version_id, author, created_at, data) VALUES `,
		"text", "text", "text", "bigint", "text", "bigint", "text")
	for _, e := range t.events {
		data := string(e.Data)
		if data == "" {
			data = "{}"
		}
		if err := b.addFlush(ctx, t, e.Topic, e.Type, e.ID, e.Version, e.Author, e.Time.UnixMicro(), data); err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
	}
	if err := b.exec(ctx, t); err != nil {
		return fmt.Errorf("write outbox: %w", err)
	}
	t.events = nil
	return nil
}

func (t *txn) flushVersionPatients(ctx context.Context) error {
	if len(t.versionPatients) == 0 {
		return nil
	}
	var b rowBatch
	b.start(`INSERT INTO version_patients (seq, patient_id) VALUES `, "bigint", "text")
	for i := 0; i < len(t.versionPatients); i += 2 {
		if err := b.addFlush(ctx, t, t.versionPatients[i], t.versionPatients[i+1]); err != nil {
			return fmt.Errorf("write version compartments: %w", err)
		}
	}
	if err := b.exec(ctx, t); err != nil {
		return fmt.Errorf("write version compartments: %w", err)
	}
	t.versionPatients = nil
	return nil
}
