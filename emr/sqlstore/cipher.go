package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/searchparam"
	"github.com/nexus-health-360/nexus/storage"
)

// Encryption at rest. When the storage.DB carries a Cipher and a Hasher,
// the store seals every resource body with associated data naming its type,
// id and version. It keeps keyed hashes in place of patient identifiers,
// master patient index keys and every identifier value in the search
// index. Those index values are the entries with
// searchparam.Entry.Identifier set: identifier, :of-type and
// Reference.identifier rows and other token parameters that select an
// Identifier. Search conditions on the parameters that
// searchparam.Registry.HoldsIdentifiers names and match key lookups are
// hashed the same way, so equality still matches. Bodies written before a
// cipher was configured stay readable as plaintext until a rewrap seals
// them.

// Hash domains keep the uses apart: the same value hashed under two domains
// gives unrelated hashes.
const (
	identifierDomain = "emr.identifier"
	matchKeyDomain   = "emr.match-key"
)

// codec applies the DB's cipher and hasher. Its zero value stores
// plaintext.
type codec struct {
	cipher storage.Cipher
	hasher storage.Hasher
}

func newCodec(db *storage.DB) codec {
	return codec{cipher: db.Cipher, hasher: db.Hasher}
}

func bodyAAD(typ, id string, version int64) []byte {
	return []byte("emr.resource_versions|" + typ + "|" + id + "|" + strconv.FormatInt(version, 10))
}

// sealBody returns the bytes to store for r's body.
func (c codec) sealBody(r emr.Resource) ([]byte, error) {
	if c.cipher == nil || r.Body == nil {
		return []byte(r.Body), nil
	}
	sealed, err := c.cipher.Seal(r.Body, bodyAAD(r.Type, r.ID, r.VersionID))
	if err != nil {
		return nil, fmt.Errorf("seal body: %w", err)
	}
	return sealed, nil
}

// openBody replaces a sealed body of res with its plaintext. A sealed body
// without a cipher is an error wrapping storage.ErrNoCipher, never the
// ciphertext.
func (c codec) openBody(res *emr.Resource) error {
	_, sealed, err := storage.ParseSealed(res.Body)
	if err != nil {
		return fmt.Errorf("read %s/%s version %d: %w", res.Type, res.ID, res.VersionID, err)
	}
	if !sealed {
		// NOTE: plaintext is accepted even with a cipher, so that rows
		// written before encryption was turned on stay readable until a
		// rewrap seals them. A database writer can therefore replace a
		// sealed body with plaintext without an error here.
		return nil
	}
	if c.cipher == nil {
		return fmt.Errorf("read %s/%s version %d: %w", res.Type, res.ID, res.VersionID, storage.ErrNoCipher)
	}
	plain, err := c.cipher.Open(res.Body, bodyAAD(res.Type, res.ID, res.VersionID))
	if err != nil {
		return fmt.Errorf("read %s/%s version %d: %w", res.Type, res.ID, res.VersionID, err)
	}
	res.Body = plain
	return nil
}

// openResource opens the body of a read's result, passing errors through.
func (c codec) openResource(res *emr.Resource, err error) (*emr.Resource, error) {
	if err != nil {
		return nil, err
	}
	if err := c.openBody(res); err != nil {
		return nil, err
	}
	return res, nil
}

func (c codec) openPage(page *emr.Page, err error) (*emr.Page, error) {
	if err != nil {
		return nil, err
	}
	for i := range page.Resources {
		if err := c.openBody(&page.Resources[i]); err != nil {
			return nil, err
		}
	}
	return page, nil
}

func (c codec) openHistory(page *emr.HistoryPage, err error) (*emr.HistoryPage, error) {
	if err != nil {
		return nil, err
	}
	for i := range page.Versions {
		if err := c.openBody(&page.Versions[i]); err != nil {
			return nil, err
		}
	}
	return page, nil
}

func (c codec) hashIdentifier(value string) string {
	if c.hasher == nil || value == "" {
		return value
	}
	return c.hasher.Hash(identifierDomain, value)
}

// hashIndex returns a copy of entries with the codes of identifier values
// (Entry.Identifier) hashed, or entries itself when there is no hasher.
func (c codec) hashIndex(entries []searchparam.Entry) []searchparam.Entry {
	if c.hasher == nil {
		return entries
	}
	out := make([]searchparam.Entry, len(entries))
	copy(out, entries)
	for i, e := range out {
		if e.Identifier {
			out[i].Code = c.hashIdentifier(e.Code)
		}
	}
	return out
}

// hashesCondition reports whether the code of cond, a condition on a
// resource of type typ, is compared with hashed index rows.
func hashesCondition(typ string, cond emr.Cond) bool {
	return cond.Kind == emr.CondToken && !cond.TokenText && searchparam.R4().HoldsIdentifiers(typ, cond.Param)
}

func (c codec) hashMatchKeys(keys []string) []string {
	if c.hasher == nil {
		return keys
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = c.hasher.Hash(matchKeyDomain, k)
	}
	return out
}

// query returns q with the codes of identifier conditions hashed, at every
// nesting level (chains and _has). It copies what it changes, so the
// caller's query is left as it was.
func (c codec) query(q emr.Query) emr.Query {
	if c.hasher == nil {
		return q
	}
	q.Where = c.clauses(q.Type, q.Where)
	return q
}

func (c codec) clauses(typ string, in []emr.Clause) []emr.Clause {
	if in == nil {
		return nil
	}
	out := make([]emr.Clause, len(in))
	for i, clause := range in {
		out[i] = c.clause(typ, clause)
	}
	return out
}

// clause hashes the conditions of in, which apply to resources of type
// typ. The inner conditions of a chain or _has apply to the type the
// chain or _has names.
func (c codec) clause(typ string, in emr.Clause) emr.Clause {
	if in == nil {
		return nil
	}
	out := make(emr.Clause, len(in))
	for i, cond := range in {
		if hashesCondition(typ, cond) {
			cond.Code = c.hashIdentifier(cond.Code)
		}
		if cond.Chain != nil {
			cond.Chain = &emr.Nested{Type: cond.Chain.Type, Where: c.clause(cond.Chain.Type, cond.Chain.Where)}
		}
		if cond.Has != nil {
			cond.Has = &emr.Nested{Type: cond.Has.Type, Where: c.clause(cond.Has.Type, cond.Has.Where)}
		}
		out[i] = cond
	}
	return out
}

var _ storage.Rewrapper = (*Store)(nil)

// Component returns "emr", the name of the store's schema.
func (s *Store) Component() string { return "emr" }

type rewrapRow struct {
	Seq     int64         `db:"seq"`
	Type    string        `db:"res_type"`
	ID      string        `db:"res_id"`
	Version int64         `db:"version_id"`
	Body    []byte        `db:"body"`
	Rid     sql.NullInt64 `db:"rid"`
}

// RewrapBatch seals again, under the active key version, the bodies after
// resource_versions.seq p.After that are plaintext or under another
// version, in one transaction. The last batch of a pass returns the
// greatest seq as Next. The content and version of each resource
// stay the same. For a plaintext body that is its resource's current
// version, the identifier, patient identifier and match key index rows
// were written in plaintext with it, so they are replaced by keyed hashes
// in the same transaction.
func (s *Store) RewrapBatch(ctx context.Context, p storage.RewrapParams) (storage.RewrapResult, error) {
	if s.codec().cipher == nil || s.codec().hasher == nil {
		return storage.RewrapResult{}, fmt.Errorf("rewrap resource bodies: %w", storage.ErrNoCipher)
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 200
	}
	header := storage.SealedHeader(s.codec().cipher.ActiveKeyVersion())

	tx, err := s.db.Writer.BeginTxx(ctx, nil)
	if err != nil {
		return storage.RewrapResult{}, fmt.Errorf("rewrap: begin: %w", mapErr(err))
	}
	defer tx.Rollback()
	var rows []rewrapRow
	err = tx.SelectContext(ctx, &rows, s.db.Rebind(`SELECT v.seq, v.res_type, v.res_id, v.version_id, v.body, r.rid
		FROM resource_versions v
		LEFT JOIN resources r ON r.res_type = v.res_type AND r.res_id = v.res_id AND r.seq = v.seq
		WHERE v.seq > ? AND v.body IS NOT NULL AND substr(v.body, 1, ?) <> ?
		ORDER BY v.seq LIMIT ?`), p.After, len(header), header, limit)
	if err != nil {
		return storage.RewrapResult{}, fmt.Errorf("rewrap: select rows after %d: %w", p.After, mapErr(err))
	}

	res := storage.RewrapResult{Next: p.After, Examined: len(rows), Done: len(rows) < limit}
	for _, row := range rows {
		if err := s.rewrapRow(ctx, tx, row); err != nil {
			return storage.RewrapResult{}, err
		}
		res.Next = row.Seq
		res.Rewrapped++
	}
	if res.Done {
		// Every committed row up to the last one was examined, so the
		// next pass starts after it and reads only rows written since.
		var last int64
		if err := tx.GetContext(ctx, &last, `SELECT COALESCE(MAX(seq), 0) FROM resource_versions`); err != nil {
			return storage.RewrapResult{}, fmt.Errorf("rewrap: read last row: %w", mapErr(err))
		}
		res.Next = max(res.Next, last)
	}
	if err := tx.Commit(); err != nil {
		return storage.RewrapResult{}, fmt.Errorf("rewrap: commit: %w", mapErr(err))
	}
	return res, nil
}

func (s *Store) rewrapRow(ctx context.Context, tx querier, row rewrapRow) error {
	op := fmt.Sprintf("rewrap %s/%s version %d", row.Type, row.ID, row.Version)
	res := emr.Resource{Type: row.Type, ID: row.ID, VersionID: row.Version, Body: row.Body}
	_, wasSealed, err := storage.ParseSealed(row.Body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := s.codec().openBody(&res); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	sealed, err := s.codec().sealBody(res)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE resource_versions SET body = ? WHERE seq = ?`), sealed, row.Seq); err != nil {
		return fmt.Errorf("%s: %w", op, mapErr(err))
	}
	if wasSealed || !row.Rid.Valid {
		return nil
	}
	if err := s.hashPlaintextIndex(ctx, tx, row.Rid.Int64, row.Seq, row.Type, res.Body); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// hashPlaintextIndex replaces the plaintext identifier values and match
// keys of resource rid, of type typ with plaintext body, by keyed hashes,
// unless a write made another version current since the rewrap selected
// seq.
func (s *Store) hashPlaintextIndex(ctx context.Context, tx querier, rid, seq int64, typ string, body []byte) error {
	lock := ""
	if s.db.Dialect == storage.Postgres {
		lock = " FOR UPDATE"
	}

	var current int64
	if err := tx.GetContext(ctx, &current, s.db.Rebind(`SELECT seq FROM resources WHERE rid = ?`+lock), rid); err != nil {
		return fmt.Errorf("lock resource row: %w", mapErr(err))
	}
	if current != seq {
		return nil
	}
	if err := s.rehashIdentifiers(ctx, tx, rid, typ, body); err != nil {
		return err
	}

	var ids []emr.Identifier
	if err := tx.SelectContext(ctx, &ids, s.db.Rebind(`SELECT system, value FROM patient_identifiers WHERE rid = ?`), rid); err != nil {
		return fmt.Errorf("read patient identifiers: %w", mapErr(err))
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE patient_identifiers SET value = ? WHERE system = ? AND value = ?`),
			s.codec().hashIdentifier(id.Value), id.System, id.Value); err != nil {
			return fmt.Errorf("write patient identifier of system %s: %w", id.System, mapErr(err))
		}
	}

	var keys []string
	if err := tx.SelectContext(ctx, &keys, s.db.Rebind(`SELECT key FROM mpi_keys WHERE rid = ?`), rid); err != nil {
		return fmt.Errorf("read match keys: %w", mapErr(err))
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM mpi_keys WHERE rid = ?`), rid); err != nil {
		return fmt.Errorf("clear match keys: %w", mapErr(err))
	}
	for _, k := range s.codec().hashMatchKeys(keys) {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO mpi_keys (key, rid) VALUES (?, ?) ON CONFLICT DO NOTHING`), k, rid); err != nil {
			return fmt.Errorf("write match keys: %w", mapErr(err))
		}
	}
	return nil
}

// KeyVersionUsage counts resource versions by the key version of their
// sealed body. Key version 0 counts plaintext bodies. Deletions have no
// body and are not counted. It reads the header of every body.
func (s *Store) KeyVersionUsage(ctx context.Context) (map[uint32]int64, error) {
	var groups []struct {
		Header []byte `db:"header"`
		Count  int64  `db:"n"`
	}
	// The length is a literal, because PostgreSQL treats two placeholders
	// as different expressions and rejects the GROUP BY.
	prefix := fmt.Sprintf("substr(body, 1, %d)", storage.SealedHeaderLen)
	err := s.db.Reader.SelectContext(ctx, &groups, `SELECT `+prefix+` AS header, COUNT(*) AS n
		FROM resource_versions WHERE body IS NOT NULL GROUP BY `+prefix)
	if err != nil {
		return nil, fmt.Errorf("count key versions: %w", mapErr(err))
	}
	usage := map[uint32]int64{}
	for _, g := range groups {
		version, _, err := storage.ParseSealed(g.Header)
		if err != nil {
			return nil, fmt.Errorf("count key versions: %w", err)
		}
		usage[version] += g.Count
	}
	return usage, nil
}

// codec returns the codec of the store's DB. The DB's Cipher and Hasher
// are set before stores are created and not changed after, so each call
// returns the same codec.
func (s *Store) codec() codec { return newCodec(s.db) }

func (t *txn) codec() codec { return newCodec(t.db) }
