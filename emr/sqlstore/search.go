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
}

func (b *sqlBuilder) write(s string, args ...any) {
	b.sb.WriteString(s)
	b.args = append(b.args, args...)
}

func search(ctx context.Context, q querier, dialect storage.Dialect, query emr.Query) (*emr.Page, error) {
	var where sqlBuilder
	where.write(`r.res_type = ? AND NOT r.deleted`, query.Type)
	for _, clause := range query.Where {
		if len(clause) == 0 {
			continue
		}
		where.write(" AND (")
		for i, c := range clause {
			if i > 0 {
				where.write(" OR ")
			}
			if err := writeCond(&where, query.Type, c); err != nil {
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
	var sqlText string
	var args []any
	if len(query.Sort) == 0 {
		sqlText = selectVersion + `, r.rid FROM resources r JOIN resource_versions v ON v.seq = r.seq WHERE ` +
			where.sb.String() + ` AND r.rid > ? ORDER BY r.rid LIMIT ?`
		args = append(append([]any{}, where.args...), query.After, count+1)
	} else {
		order, orderArgs := sortClause(query.Type, query.Sort)
		sqlText = selectVersion + `, r.rid FROM resources r JOIN resource_versions v ON v.seq = r.seq WHERE ` +
			where.sb.String() + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
		args = append(append(append([]any{}, where.args...), orderArgs...), count+1, query.Offset)
	}
	var rows []versionRow
	if err := q.SelectContext(ctx, &rows, rebind(sqlText), args...); err != nil {
		return nil, fmt.Errorf("search %s: %w", query.Type, err)
	}
	if len(rows) > count {
		rows = rows[:count]
		page.Next = rows[count-1].Rid.Int64
		if len(query.Sort) > 0 {
			page.Next = int64(query.Offset + count)
		}
	}
	page.Resources = make([]emr.Resource, len(rows))
	for i, r := range rows {
		page.Resources[i] = r.resource()
	}
	return page, nil
}

// sortClause builds ORDER BY terms: each key's smallest value ascending or
// largest descending, missing values last, then the row key so equal
// values keep a stable order.
func sortClause(typ string, keys []emr.SortKey) (string, []any) {
	var terms []string
	var args []any
	for _, k := range keys {
		agg, dir := "MIN", "ASC"
		if k.Desc {
			agg, dir = "MAX", "DESC"
		}
		var expr string
		switch k.Kind {
		case emr.CondID:
			expr = "r.res_id"
		case emr.CondLastUpdated:
			expr = "r.last_updated"
		default:
			table, column := sortColumn(k.Kind, k.Desc)
			expr = "(SELECT " + agg + "(" + column + ") FROM " + table + " s WHERE s.rid = r.rid AND s.res_type = ? AND s.param = ?)"
			// The expression appears twice below, so its arguments do too.
			args = append(args, typ, k.Param, typ, k.Param)
		}
		terms = append(terms, "("+expr+" IS NULL) ASC", expr+" "+dir)
	}
	terms = append(terms, "r.rid ASC")
	return strings.Join(terms, ", "), args
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

func writeCond(b *sqlBuilder, typ string, c emr.Cond) error {
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
		b.write("r.res_id" + op + strings.TrimSuffix(strings.Repeat("?,", len(c.IDs)), ",") + ")")
		for _, id := range c.IDs {
			b.args = append(b.args, id)
		}
		return nil
	case emr.CondLastUpdated:
		// The stored instant is a range of one microsecond.
		expr, args := rangeCond(c.Prefix, "r.last_updated", "(r.last_updated + 1)", c.Lo, c.Hi)
		if c.Not {
			expr = "NOT (" + expr + ")"
		}
		b.write(expr, args...)
		return nil
	}

	var table string
	var inner sqlBuilder
	switch c.Kind {
	case emr.CondString:
		table = "idx_string"
		switch c.Mode {
		case emr.StringExact:
			inner.write("exact = ?", c.Text)
		case emr.StringContains:
			inner.write(`text LIKE ? ESCAPE '\'`, "%"+escapeLike(c.Text)+"%")
		default:
			inner.write("text >= ? AND text <= ?", c.Text, c.Text+maxUnicode)
		}
	case emr.CondToken:
		table = "idx_token"
		switch {
		case c.Code != "" && c.System != nil:
			inner.write("code = ? AND system = ?", c.Code, *c.System)
		case c.Code != "":
			inner.write("code = ?", c.Code)
		case c.System != nil:
			inner.write("system = ?", *c.System)
		default:
			return fmt.Errorf("search %s: token condition on %s has neither system nor code: %w", typ, c.Param, emr.ErrInvalid)
		}
	case emr.CondDate:
		table = "idx_date"
		expr, args := rangeCond(c.Prefix, "lo", "hi", c.Lo, c.Hi)
		inner.write(expr, args...)
	case emr.CondNumber:
		table = "idx_number"
		expr, args := numberCond(c)
		inner.write(expr, args...)
		if c.Code != "" {
			inner.write(" AND code = ?", c.Code)
		}
		if c.System != nil {
			inner.write(" AND system = ?", *c.System)
		}
	case emr.CondReference:
		table = "idx_reference"
		switch {
		case c.URL != "":
			inner.write("exact = ?", c.URL)
		case c.RefType != "":
			inner.write("ref_id = ? AND ref_type = ?", c.RefID, c.RefType)
		default:
			inner.write("ref_id = ?", c.RefID)
		}
	case emr.CondURI:
		table = "idx_uri"
		inner.write("uri = ?", c.Text)
	default:
		return fmt.Errorf("search %s: unknown condition kind %d: %w", typ, c.Kind, emr.ErrUnsupported)
	}
	op := "r.rid IN "
	if c.Not {
		op = "r.rid NOT IN "
	}
	b.write(op+"(SELECT rid FROM "+table+" WHERE res_type = ? AND param = ? AND ", typ, c.Param)
	b.write(inner.sb.String()+")", inner.args...)
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
		return hiCol + " <= ?", []any{lo}
	case "ap":
		return loCol + " < ? AND " + hiCol + " > ?", []any{hi, lo}
	case "ne":
		return "NOT (" + loCol + " >= ? AND " + hiCol + " <= ?)", []any{lo, hi}
	default:
		return loCol + " >= ? AND " + hiCol + " <= ?", []any{lo, hi}
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
