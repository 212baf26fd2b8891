package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/searchparam"
	"github.com/nexus-health-360/nexus/storage"
)

// loadRows is the number of rows per multi-row INSERT of Load. With the 8
// columns of resource_versions it stays far below SQLite's limit of 32766
// host parameters.
const loadRows = 500

// Load stores puts, each the first version of a resource not yet stored,
// in one transaction. It writes the resource_versions and resources rows
// with one multi-row INSERT each per loadRows resources, where Tx.Put
// runs two statements per resource. The index, compartment, identifier
// and match key rows are written as Tx.Put writes them.
//
// Load is a bulk path for loading data: it does what Tx.Put does and no
// more, so no outbox event is written and nothing is validated. A put
// whose version is not 1 is rejected with emr.ErrInvalid, and one whose
// type and id are already stored, or appear twice in puts, fails the
// whole load with emr.ErrConflict.
func (s *Store) Load(ctx context.Context, puts []emr.Put) error {
	for _, p := range puts {
		if p.Resource.VersionID != 1 {
			return fmt.Errorf("load %s/%s: version %d: only first versions can be loaded: %w",
				p.Resource.Type, p.Resource.ID, p.Resource.VersionID, emr.ErrInvalid)
		}
	}
	return s.InTx(ctx, func(ctx context.Context, tx emr.Tx) error {
		t := tx.(*txn)
		for start := 0; start < len(puts); start += loadRows {
			end := min(start+loadRows, len(puts))
			if err := t.loadRows(ctx, puts[start:end]); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadKey is the type and id of a loaded resource.
type loadKey struct{ typ, id string }

// loadRows inserts the version and resource rows of puts with one
// statement each and buffers their other rows as Tx.Put does. RETURNING
// gives rows in no defined order, so the generated keys are matched by
// type and id.
func (t *txn) loadRows(ctx context.Context, puts []emr.Put) error {
	codec := t.codec()
	var sb strings.Builder
	args := make([]any, 0, len(puts)*8)
	sb.WriteString(`INSERT INTO resource_versions (res_type, res_id, version_id, last_updated, method, author, content_hash, body) VALUES `)
	for i, p := range puts {
		r := p.Resource
		body, err := codec.sealBody(r)
		if err != nil {
			return fmt.Errorf("load %s/%s: %w", r.Type, r.ID, err)
		}
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, r.Type, r.ID, r.VersionID, r.LastUpdated.UnixMicro(), r.Method, r.Author, p.ContentHash, body)
	}
	sb.WriteString(" RETURNING res_type, res_id, seq")
	seqs, err := t.returnKeys(ctx, sb.String(), args, len(puts))
	if err != nil {
		return fmt.Errorf("load %d resource versions: %w", len(puts), err)
	}

	sb.Reset()
	args = args[:0]
	sb.WriteString(`INSERT INTO resources (res_type, res_id, version_id, seq, last_updated, deleted) VALUES `)
	for i, p := range puts {
		r := p.Resource
		var deleted any = r.Deleted
		if t.db.Dialect == storage.SQLite {
			deleted = 0
			if r.Deleted {
				deleted = 1
			}
		}
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString("(?, ?, ?, ?, ?, ?)")
		args = append(args, r.Type, r.ID, r.VersionID, seqs[loadKey{r.Type, r.ID}], r.LastUpdated.UnixMicro(), deleted)
	}
	sb.WriteString(" RETURNING res_type, res_id, rid")
	rids, err := t.returnKeys(ctx, sb.String(), args, len(puts))
	if err != nil {
		return fmt.Errorf("load %d resources: %w", len(puts), err)
	}

	for _, p := range puts {
		if err := t.bufferLoaded(ctx, p, seqs[loadKey{p.Resource.Type, p.Resource.ID}], rids[loadKey{p.Resource.Type, p.Resource.ID}]); err != nil {
			return err
		}
	}
	return nil
}

// returnKeys runs an INSERT ... RETURNING res_type, res_id, key and
// returns the keys by type and id. Fewer rows than want means that puts
// named a resource twice.
func (t *txn) returnKeys(ctx context.Context, query string, args []any, want int) (map[loadKey]int64, error) {
	rows, err := t.tx.QueryContext(ctx, t.db.Rebind(query), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	keys := make(map[loadKey]int64, want)
	for rows.Next() {
		var k loadKey
		var v int64
		if err := rows.Scan(&k.typ, &k.id, &v); err != nil {
			return nil, err
		}
		keys[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	if len(keys) != want {
		return nil, fmt.Errorf("a resource appears twice: %w", emr.ErrConflict)
	}
	return keys, nil
}

// bufferLoaded records the rows of one loaded resource that Tx.Put writes
// besides its version and resource rows.
func (t *txn) bufferLoaded(ctx context.Context, p emr.Put, seq, rid int64) error {
	r := p.Resource
	for _, patient := range p.Patients {
		t.versionPatients = append(t.versionPatients, seq, patient)
	}
	if r.Deleted {
		return nil
	}
	codec := t.codec()
	for _, id := range p.Identifiers {
		_, err := t.tx.ExecContext(ctx, t.db.Rebind(
			`INSERT INTO patient_identifiers (system, value, rid) VALUES (?, ?, ?)`), id.System, codec.hashIdentifier(id.Value), rid)
		if err != nil {
			if err = mapErr(err); errors.Is(err, emr.ErrConflict) {
				return fmt.Errorf("load %s/%s: identifier of system %s: %w", r.Type, r.ID, id.System, emr.ErrIdentifierInUse)
			}
			return fmt.Errorf("load %s/%s: %w", r.Type, r.ID, err)
		}
	}
	if len(p.MatchKeys) > 0 {
		if err := t.insertKeys(ctx, rid, codec.hashMatchKeys(p.MatchKeys)); err != nil {
			return fmt.Errorf("load %s/%s: %w", r.Type, r.ID, err)
		}
	}
	if len(p.Index) > 0 {
		if t.pending == nil {
			t.pending = map[int64][]searchparam.Entry{}
			t.types = map[int64]string{}
		}
		t.order = append(t.order, rid)
		t.pending[rid] = codec.hashIndex(p.Index)
		t.types[rid] = r.Type
	}
	return nil
}
