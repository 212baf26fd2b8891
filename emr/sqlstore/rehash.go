package sqlstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/searchparam"
	"github.com/nexus-health-360/nexus/storage"
)

// rehashIdentifiers rewrites the identifier index rows of resource rid, of
// type typ. It deletes the rows of every parameter that
// searchparam.Registry.HoldsIdentifiers names, then inserts the identifier
// entries extracted from body (the plaintext current version) with their
// codes hashed. Rows already hashed come out the same, so running it twice
// changes nothing.
func (s *Store) rehashIdentifiers(ctx context.Context, tx querier, rid int64, typ string, body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("decode body: %w", err)
	}
	// NOTE: the store extracts with the R4 registry, the only one that
	// emr.Service uses so far.
	entries, err := searchparam.R4().Extract(typ, tree)
	if err != nil {
		return fmt.Errorf("extract index: %w", err)
	}

	var params []string
	if err := tx.SelectContext(ctx, &params, s.db.Rebind(`SELECT DISTINCT param FROM idx_token WHERE rid = ?`), rid); err != nil {
		return fmt.Errorf("read token parameters: %w", mapErr(err))
	}
	for _, param := range params {
		if !searchparam.R4().HoldsIdentifiers(typ, param) {
			continue
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM idx_token WHERE rid = ? AND param = ?`), rid, param); err != nil {
			return fmt.Errorf("clear identifier rows of %s: %w", param, mapErr(err))
		}
	}

	for _, e := range s.codec().hashIndex(entries) {
		if !e.Identifier {
			continue
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO idx_token (rid, res_type, param, system, code, text)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`), rid, typ, e.Param, e.System, e.Code, e.Text); err != nil {
			return fmt.Errorf("write identifier rows of %s: %w", e.Param, mapErr(err))
		}
	}
	return nil
}

// IdentifierIndex returns the pass that hashes the identifier values left
// in plaintext in the search index of resources whose bodies are already
// sealed, such as the :of-type rows written before every identifier row
// was hashed. It is a storage.Rewrapper, so a key ring runs and resumes it
// like a rewrap: each batch visits the current versions of the resources
// after a row key and rewrites their identifier rows (rehashIdentifiers).
// It seals nothing, so KeyVersionUsage reports no rows. A key ring starts
// its passes again from the first resource after each rotation.
func (s *Store) IdentifierIndex() storage.Rewrapper { return identifierIndex{s} }

type identifierIndex struct{ s *Store }

// Component returns "emr-identifier-index".
func (identifierIndex) Component() string { return "emr-identifier-index" }

// KeyVersionUsage returns an empty map: the pass keeps no sealed rows.
func (identifierIndex) KeyVersionUsage(context.Context) (map[uint32]int64, error) {
	return map[uint32]int64{}, nil
}

// RewrapBatch rewrites the identifier rows of up to p.Limit resources with
// row key (rid) after p.After, in one transaction. Rewrapped counts the
// resources visited.
func (x identifierIndex) RewrapBatch(ctx context.Context, p storage.RewrapParams) (storage.RewrapResult, error) {
	s := x.s
	if s.codec().cipher == nil || s.codec().hasher == nil {
		return storage.RewrapResult{}, fmt.Errorf("rehash identifier index: %w", storage.ErrNoCipher)
	}

	limit := p.Limit
	if limit <= 0 {
		limit = 200
	}

	tx, err := s.db.Writer.BeginTxx(ctx, nil)
	if err != nil {
		return storage.RewrapResult{}, fmt.Errorf("rehash identifier index: begin: %w", mapErr(err))
	}
	defer tx.Rollback()

	// On PostgreSQL the rows are locked, so that a concurrent write of the
	// same resource waits and then replaces the rows written here.
	lock := ""
	if s.db.Dialect == storage.Postgres {
		lock = " FOR UPDATE OF r"
	}
	var rows []rewrapRow
	err = tx.SelectContext(ctx, &rows, s.db.Rebind(`SELECT v.seq, v.res_type, v.res_id, v.version_id, v.body, r.rid
		FROM resources r JOIN resource_versions v ON v.seq = r.seq
		WHERE r.rid > ? AND NOT r.deleted AND v.body IS NOT NULL
		ORDER BY r.rid LIMIT ?`+lock), p.After, limit)
	if err != nil {
		return storage.RewrapResult{}, fmt.Errorf("rehash identifier index: select resources after %d: %w", p.After, mapErr(err))
	}

	res := storage.RewrapResult{Next: p.After, Examined: len(rows), Done: len(rows) < limit}
	for _, row := range rows {
		r := emr.Resource{Type: row.Type, ID: row.ID, VersionID: row.Version, Body: row.Body}
		if err := s.codec().openBody(&r); err != nil {
			return storage.RewrapResult{}, fmt.Errorf("rehash identifier index: %w", err)
		}
		if err := s.rehashIdentifiers(ctx, tx, row.Rid.Int64, row.Type, r.Body); err != nil {
			return storage.RewrapResult{}, fmt.Errorf("rehash identifier index of %s/%s: %w", row.Type, row.ID, err)
		}
		res.Next = row.Rid.Int64
		res.Rewrapped++
	}

	if err := tx.Commit(); err != nil {
		return storage.RewrapResult{}, fmt.Errorf("rehash identifier index: commit: %w", mapErr(err))
	}
	return res, nil
}
