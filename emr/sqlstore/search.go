package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/storage"
)

// maxUnicode sorts after every string that starts with a given prefix, when
// text compares bytewise (SQLite BINARY, PostgreSQL COLLATE "C").
const maxUnicode = "\U0010FFFF"

type sqlBuilder struct {
	sb   strings.Builder
	args []any
	// aliases counts the table aliases handed out for nested searches.
	aliases int
	// correlated makes writeCond write the top-level index test as a
	// correlated EXISTS instead of rid IN (...).
	correlated bool
	// access restricts the query and its nested searches. Nil means
	// unrestricted.
	access *emr.Access
}

// pickDriver returns the index of the clause that should drive the query,
// or -1, and its rank: a clause of one condition, preferring kinds whose
// values are usually selective.
func pickDriver(clauses []emr.Clause) (int, int) {
	rank := func(c emr.Cond) int {
		if c.Not || c.Missing != nil || c.Has != nil || c.Chain != nil {
			return 0
		}
		switch c.Kind {
		case emr.CondID:
			return 9
		case emr.CondReference:
			return 8
		case emr.CondToken:
			if c.TokenText || c.Code == "" {
				return 2
			}
			return 7
		case emr.CondDate:
			if c.Prefix == "eq" || c.Prefix == "" {
				return 6
			}
			return 3
		case emr.CondURI, emr.CondNumber:
			return 5
		case emr.CondString:
			switch c.Mode {
			case emr.StringExact:
				return 5
			case emr.StringContains:
				return 0
			}
			return 4
		}
		return 0
	}
	best, bestRank := -1, 0
	for i, clause := range clauses {
		if len(clause) != 1 {
			continue
		}
		if r := rank(clause[0]); r > bestRank {
			best, bestRank = i, r
		}
	}
	return best, bestRank
}

// rankReference is the rank pickDriver gives a reference condition.
const rankReference = 8

func (b *sqlBuilder) alias() string {
	b.aliases++
	return fmt.Sprintf("n%d", b.aliases)
}

func (b *sqlBuilder) write(s string, args ...any) {
	b.sb.WriteString(s)
	b.args = append(b.args, args...)
}

func search(ctx context.Context, q querier, dialect storage.Dialect, query emr.Query) (*emr.Page, error) {
	where := sqlBuilder{access: emr.AccessFromContext(ctx)}
	where.write(`r.res_type = ? AND NOT r.deleted`, query.Type)
	// One condition drives the query through its index (rid IN ...). The
	// others are checked per candidate row with correlated EXISTS probes,
	// which seek the index rows by resource key. Without that split the
	// database builds the full match set of every condition before
	// intersecting them, such as all 12,000 patients of one family name.
	// The access filter of a few patients drives unless an id or
	// reference condition can.
	driver, rank := pickDriver(query.Where)
	accessDrives := restricts(where.access, query.Type) && rank < rankReference &&
		len(where.access.Patients) <= accessDriveMax
	if accessDrives {
		driver = -1
	}
	writeAccess(&where, where.access, "r", query.Type, accessDrives, false)
	for ci, clause := range query.Where {
		if len(clause) == 0 {
			continue
		}
		where.write(" AND (")
		for i, c := range clause {
			if i > 0 {
				where.write(" OR ")
			}
			where.correlated = ci != driver
			err := writeCond(&where, "r", query.Type, c)
			where.correlated = false
			if err != nil {
				return nil, err
			}
		}
		where.write(")")
	}
	rebind := func(s string) string { return sqlx.Rebind(sqlx.BindType(driverName(dialect)), s) }

	page := &emr.Page{Total: -1}
	if query.Total || query.CountOnly {
		var n int
		if err := q.GetContext(ctx, &n, rebind(`SELECT COUNT(*) FROM resources r WHERE `+where.sb.String()), where.args...); err != nil {
			return nil, fmt.Errorf("count %s: %w", query.Type, err)
		}
		page.Total = n
		if query.CountOnly {
			return page, nil
		}
	}
	count := query.Count
	if count <= 0 {
		count = 50
	}
	if len(query.Sort) > 0 {
		sorted, err := searchSorted(ctx, q, rebind, query, &where, count)
		if err != nil {
			return nil, err
		}
		sorted.Total = page.Total
		return sorted, nil
	}
	sqlText := selectVersion + `, r.rid FROM resources r JOIN resource_versions v ON v.seq = r.seq WHERE ` +
		where.sb.String() + ` AND r.rid > ? ORDER BY r.rid LIMIT ?`
	args := append(append([]any{}, where.args...), query.After, count+1)
	var rows []versionRow
	if err := q.SelectContext(ctx, &rows, rebind(sqlText), args...); err != nil {
		return nil, fmt.Errorf("search %s: %w", query.Type, err)
	}
	if len(rows) > count {
		rows = rows[:count]
		page.Next = rows[count-1].Rid.Int64
	}
	page.Resources = make([]emr.Resource, len(rows))
	for i, r := range rows {
		page.Resources[i] = r.resource()
	}
	return page, nil
}

func sortColumn(kind emr.CondKind, desc bool) (table, column string) {
	switch kind {
	case emr.CondString:
		return "idx_string", "text"
	case emr.CondToken:
		return "idx_token", "code"
	case emr.CondDate:
		if desc {
			return "idx_date", "hi"
		}
		return "idx_date", "lo"
	case emr.CondNumber:
		return "idx_number", "num"
	case emr.CondReference:
		return "idx_reference", "ref_id"
	default:
		return "idx_uri", "uri"
	}
}

func driverName(d storage.Dialect) string {
	if d == storage.Postgres {
		return "postgres"
	}
	return "sqlite"
}

// writeCond writes one condition on the resources row aliased a of type
// typ.
func writeCond(b *sqlBuilder, a, typ string, c emr.Cond) error {
	if c.Has != nil {
		return writeHas(b, a, typ, c)
	}
	switch c.Kind {
	case emr.CondID:
		if len(c.IDs) == 0 {
			b.write("1 = 0")
			return nil
		}
		op := " IN ("
		if c.Not {
			op = " NOT IN ("
		}
		b.write(a + ".res_id" + op + strings.TrimSuffix(strings.Repeat("?,", len(c.IDs)), ",") + ")")
		for _, id := range c.IDs {
			b.args = append(b.args, id)
		}
		return nil
	case emr.CondLastUpdated:
		// The stored instant is a range of one microsecond.
		expr, args := rangeCond(c.Prefix, a+".last_updated", "("+a+".last_updated + 1)", c.Lo, c.Hi)
		if c.Not {
			expr = "NOT (" + expr + ")"
		}
		b.write(expr, args...)
		return nil
	}

	if c.Kind == emr.CondComposite {
		return writeComposite(b, a, typ, c)
	}
	table, ok := condTables[c.Kind]
	if !ok {
		return fmt.Errorf("search %s: unknown condition kind %d: %w", typ, c.Kind, emr.ErrUnsupported)
	}
	if c.Missing != nil {
		op := "EXISTS"
		if *c.Missing {
			op = "NOT EXISTS"
		}
		b.write(op+" (SELECT 1 FROM "+table+" x WHERE x.rid = "+a+".rid AND x.res_type = ? AND x.param = ?)", typ, c.Param)
		return nil
	}
	correlated := b.correlated || c.Not
	b.correlated = false
	if correlated {
		op := "EXISTS"
		if c.Not {
			op = "NOT EXISTS"
		}
		b.write(op+" (SELECT 1 FROM "+table+" x WHERE x.rid = "+a+".rid AND x.res_type = ? AND x.param = ? AND ", typ, c.Param)
	} else {
		b.write(a+".rid IN (SELECT rid FROM "+table+" WHERE res_type = ? AND param = ? AND ", typ, c.Param)
	}
	if err := writeValueCond(b, typ, c); err != nil {
		return err
	}
	b.write(")")
	return nil
}

var condTables = map[emr.CondKind]string{
	emr.CondString: "idx_string", emr.CondToken: "idx_token", emr.CondDate: "idx_date",
	emr.CondNumber: "idx_number", emr.CondReference: "idx_reference", emr.CondURI: "idx_uri",
}

// writeValueCond writes the test on one index row's columns.
func writeValueCond(b *sqlBuilder, typ string, c emr.Cond) error {
	switch c.Kind {
	case emr.CondString:
		switch c.Mode {
		case emr.StringExact:
			b.write("exact = ?", c.Text)
		case emr.StringContains:
			b.write(`text LIKE ? ESCAPE '\'`, "%"+escapeLike(c.Text)+"%")
		default:
			b.write("text >= ? AND text <= ?", c.Text, c.Text+maxUnicode)
		}
	case emr.CondToken:
		switch {
		case c.TokenText:
			b.write("text >= ? AND text <= ?", c.Text, c.Text+maxUnicode)
		case c.Code != "" && c.System != nil:
			b.write("code = ? AND system = ?", c.Code, *c.System)
		case c.Code != "":
			b.write("code = ?", c.Code)
		case c.System != nil:
			b.write("system = ?", *c.System)
		default:
			return fmt.Errorf("search %s: token condition on %s has neither system nor code: %w", typ, c.Param, emr.ErrInvalid)
		}
	case emr.CondDate:
		expr, args := rangeCond(c.Prefix, "lo", "hi", c.Lo, c.Hi)
		b.write(expr, args...)
	case emr.CondNumber:
		expr, args := numberCond(c)
		b.write(expr, args...)
		if c.Code != "" {
			b.write(" AND code = ?", c.Code)
		}
		if c.System != nil {
			b.write(" AND system = ?", *c.System)
		}
	case emr.CondReference:
		switch {
		case c.Chain != nil:
			inner := b.alias()
			b.write("ref_type = ? AND ref_id IN (SELECT "+inner+".res_id FROM resources "+inner+
				" WHERE "+inner+".res_type = ? AND NOT "+inner+".deleted AND (", c.Chain.Type, c.Chain.Type)
			if err := writeClause(b, inner, c.Chain.Type, c.Chain.Where); err != nil {
				return err
			}
			b.write(")")
			// A chain through a resource the caller may not see matches
			// nothing.
			writeAccess(b, b.access, inner, c.Chain.Type, false, false)
			b.write(")")
		case c.URL != "":
			b.write("exact = ?", c.URL)
		case c.RefType != "":
			b.write("ref_id = ? AND ref_type = ?", c.RefID, c.RefType)
		default:
			b.write("ref_id = ?", c.RefID)
		}
	case emr.CondURI:
		switch c.URIMode {
		case emr.URIBelow:
			b.write("uri >= ? AND uri <= ?", c.Text, c.Text+maxUnicode)
		case emr.URIAbove:
			b.write("substr(?, 1, length(uri)) = uri", c.Text)
		default:
			b.write("uri = ?", c.Text)
		}
	}
	return nil
}

// writeClause writes conditions of which one must hold.
func writeClause(b *sqlBuilder, a, typ string, clause emr.Clause) error {
	for i, c := range clause {
		if i > 0 {
			b.write(" OR ")
		}
		if err := writeCond(b, a, typ, c); err != nil {
			return err
		}
	}
	return nil
}

// writeHas matches resources referenced through c.Param by a resource of
// c.Has.Type for which c.Has.Where holds.
func writeHas(b *sqlBuilder, a, typ string, c emr.Cond) error {
	inner := b.alias()
	op := " IN "
	if c.Not {
		op = " NOT IN "
	}
	b.write(a+".res_id"+op+"(SELECT ir.ref_id FROM idx_reference ir JOIN resources "+inner+" ON "+inner+".rid = ir.rid"+
		" WHERE ir.res_type = ? AND ir.param = ? AND ir.ref_type = ? AND NOT "+inner+".deleted AND (",
		c.Has.Type, c.Param, typ)
	if err := writeClause(b, inner, c.Has.Type, c.Has.Where); err != nil {
		return err
	}
	b.write(")")
	writeAccess(b, b.access, inner, c.Has.Type, false, false)
	b.write(")")
	return nil
}

// rangeCond compares a stored range [loCol, hiCol) with the search range
// [lo, hi) under a FHIR R4 search prefix.
func rangeCond(prefix, loCol, hiCol string, lo, hi int64) (string, []any) {
	switch prefix {
	case "gt":
		return hiCol + " > ?", []any{hi}
	case "lt":
		return loCol + " < ?", []any{lo}
	case "ge":
		return hiCol + " > ?", []any{lo}
	case "le":
		return loCol + " < ?", []any{hi}
	case "sa":
		return loCol + " >= ?", []any{hi}
	case "eb":
		// A stored range ending by lo also starts before it; the extra
		// bound lets the index on the start column limit the scan.
		return hiCol + " <= ? AND " + loCol + " < ?", []any{lo, lo}
	case "ap":
		return loCol + " < ? AND " + hiCol + " > ?", []any{hi, lo}
	case "ne":
		return "NOT (" + loCol + " >= ? AND " + hiCol + " <= ?)", []any{lo, hi}
	default:
		// lo < hi bounds the scan of the index on the start column.
		return loCol + " >= ? AND " + loCol + " < ? AND " + hiCol + " <= ?", []any{lo, hi, hi}
	}
}

// numberCond compares the stored value with the search value; eq and ne use
// the search value's precision range, as FHIR R4 defines for numbers.
func numberCond(c emr.Cond) (string, []any) {
	switch c.Prefix {
	case "gt", "sa":
		return "num > ?", []any{c.Num}
	case "lt", "eb":
		return "num < ?", []any{c.Num}
	case "ge":
		return "num >= ?", []any{c.Num}
	case "le":
		return "num <= ?", []any{c.Num}
	case "ap":
		d := c.Num * 0.1
		if d < 0 {
			d = -d
		}
		return "num >= ? AND num <= ?", []any{c.Num - d, c.Num + d}
	case "ne":
		return "NOT (num >= ? AND num < ?)", []any{c.NumLo, c.NumHi}
	default:
		return "num >= ? AND num < ?", []any{c.NumLo, c.NumHi}
	}
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
