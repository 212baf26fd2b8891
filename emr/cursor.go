package emr

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
)

// defaultCursorKey signs paging cursors when Config.CursorKey is empty. It
// is the same in every process, so a next link works on any server of a
// deployment. Because the key is public, a cursor made with it is checked
// for tampering and for use with another search, but a client can forge
// one. A forged cursor only picks a starting row of the same search: the
// caller's Access still applies.
var defaultCursorKey = []byte("nexus emr search cursor v1")

// cursorPayload is the content of a paging cursor.
type cursorPayload struct {
	// Search is the digest of the search the cursor belongs to.
	Search []byte `json:"s"`
	// Row is the row key of the last row of the page.
	Row int64 `json:"r"`
	// Values are that row's sort key values for a sorted search.
	Values []cursorValue `json:"v,omitempty"`
}

// cursorValue is a SortValue as a cursor stores it, without empty fields.
type cursorValue struct {
	Null   bool    `json:"n,omitempty"`
	Text   string  `json:"t,omitempty"`
	Int    int64   `json:"i,omitempty"`
	Number float64 `json:"f,omitempty"`
}

// searchDigest identifies the rows and the order of a query: its type,
// conditions and sort keys, not its page size.
func searchDigest(q Query) []byte {
	shape, err := json.Marshal(struct {
		Type  string
		Where []Clause
		Sort  []SortKey
	}{q.Type, finiteClauses(q.Where), q.Sort})
	if err != nil {
		// Query contains only strings, finite numbers after
		// finiteClauses, booleans and pointers to them, which always
		// marshal.
		panic("emr: marshal search digest: " + err.Error())
	}
	sum := sha256.Sum256(shape)
	return sum[:12]
}

// finiteClauses returns a copy of where in which the infinite number bounds
// are replaced by ±math.MaxFloat64, because JSON has no infinity. A number
// search at the float64 maximum, such as lt1.7976931348623157e308, has an
// infinite upper bound.
func finiteClauses(where []Clause) []Clause {
	if where == nil {
		return nil
	}
	out := make([]Clause, len(where))
	for i, clause := range where {
		out[i] = finiteConds(clause)
	}
	return out
}

func finiteConds(conds []Cond) []Cond {
	if conds == nil {
		return nil
	}
	out := make([]Cond, len(conds))
	for i, c := range conds {
		c.Num, c.NumLo, c.NumHi = finite(c.Num), finite(c.NumLo), finite(c.NumHi)
		c.Composite = finiteConds(c.Composite)
		if c.Chain != nil {
			c.Chain = &Nested{Type: c.Chain.Type, Where: finiteConds(c.Chain.Where)}
		}
		if c.Has != nil {
			c.Has = &Nested{Type: c.Has.Type, Where: finiteConds(c.Has.Where)}
		}
		out[i] = c
	}
	return out
}

func finite(f float64) float64 {
	switch {
	case math.IsInf(f, 1):
		return math.MaxFloat64
	case math.IsInf(f, -1):
		return -math.MaxFloat64
	}
	return f
}

// encodeCursor returns the opaque _cursor of the page after the row rid
// with the sort values, for query q: base64url JSON and its HMAC-SHA256.
func (s *Service) encodeCursor(q Query, rid int64, values []SortValue) string {
	p := cursorPayload{Search: searchDigest(q), Row: rid}
	for _, v := range values {
		p.Values = append(p.Values, cursorValue(v))
	}
	body, err := json.Marshal(p)
	if err != nil {
		panic("emr: marshal search cursor: " + err.Error())
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(body) + "." + enc.EncodeToString(s.cursorMAC(body))
}

// decodeCursor checks a _cursor against query q and sets q.After and
// q.AfterValues from it. A cursor that is malformed, altered or made for
// another search is rejected with ErrInvalid.
func (s *Service) decodeCursor(q *Query, cursor string) error {
	invalid := badSearch(paramCursor, "invalid",
		"_cursor is not a cursor of this search; use the next link of the previous page unchanged")
	enc := base64.RawURLEncoding
	bodyText, macText, ok := strings.Cut(cursor, ".")
	if !ok {
		return invalid
	}
	body, err := enc.DecodeString(bodyText)
	if err != nil {
		return invalid
	}
	mac, err := enc.DecodeString(macText)
	if err != nil || !hmac.Equal(mac, s.cursorMAC(body)) {
		return invalid
	}
	var p cursorPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return invalid
	}
	if !hmac.Equal(p.Search, searchDigest(*q)) || p.Row <= 0 || len(p.Values) != len(q.Sort) {
		return invalid
	}
	q.After = p.Row
	q.AfterValues = nil
	for _, v := range p.Values {
		q.AfterValues = append(q.AfterValues, SortValue(v))
	}
	return nil
}

func (s *Service) cursorMAC(body []byte) []byte {
	key := s.cfg.CursorKey
	if len(key) == 0 {
		key = defaultCursorKey
	}
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return m.Sum(nil)[:16]
}
