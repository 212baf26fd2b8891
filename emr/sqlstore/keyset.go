package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/nexus-health-360/nexus/emr"
)

// searchSorted runs a sorted query and pages it by keyset: the page
// starts after the row whose sort key values and row key are
// query.AfterValues and query.After. The sort values are computed once per
// matching row in a derived table t (columns s0, s1, ...), ordered and
// compared there, and returned with each row so the last one becomes the
// next cursor.
func searchSorted(ctx context.Context, q querier, rebind func(string) string, query emr.Query,
	where *sqlBuilder, count int) (*emr.Page, error) {
	if query.After > 0 && len(query.AfterValues) != len(query.Sort) {
		return nil, fmt.Errorf("search %s: cursor has %d sort values for %d sort keys: %w",
			query.Type, len(query.AfterValues), len(query.Sort), emr.ErrInvalid)
	}
	var sb strings.Builder
	var args []any
	sb.WriteString(selectVersion + `, t.rid`)
	for i := range query.Sort {
		sb.WriteString(", t.s" + strconv.Itoa(i))
	}
	sb.WriteString(` FROM (SELECT r.rid AS rid, r.seq AS seq`)
	for i, k := range query.Sort {
		expr, exprArgs := sortExpr(query.Type, k)
		sb.WriteString(", " + expr + " AS s" + strconv.Itoa(i))
		args = append(args, exprArgs...)
	}
	sb.WriteString(` FROM resources r WHERE ` + where.sb.String() + `) t JOIN resource_versions v ON v.seq = t.seq`)
	args = append(args, where.args...)
	if query.After > 0 {
		cond, condArgs := keysetCond(query.Sort, query.AfterValues, query.After)
		sb.WriteString(" WHERE " + cond)
		args = append(args, condArgs...)
	}
	sb.WriteString(" ORDER BY ")
	for i, k := range query.Sort {
		col := "t.s" + strconv.Itoa(i)
		dir := " ASC"
		if k.Desc {
			dir = " DESC"
		}
		sb.WriteString("(" + col + " IS NULL) ASC, " + col + dir + ", ")
	}
	sb.WriteString("t.rid ASC LIMIT ?")
	args = append(args, count+1)

	rows, err := q.QueryContext(ctx, rebind(sb.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", query.Type, err)
	}
	defer rows.Close()
	page := &emr.Page{Total: -1}
	var rids []int64
	var values [][]emr.SortValue
	for rows.Next() {
		var r versionRow
		dest := []any{&r.Type, &r.ID, &r.VersionID, &r.LastUpdated, &r.Method, &r.Author, &r.Body, &r.Seq, &r.Hash, &r.Rid}
		scanned := make([]sortScan, len(query.Sort))
		for i, k := range query.Sort {
			dest = append(dest, scanned[i].target(k.Kind))
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("search %s: %w", query.Type, err)
		}
		rowValues := make([]emr.SortValue, len(scanned))
		for i := range scanned {
			rowValues[i] = scanned[i].value()
		}
		page.Resources = append(page.Resources, r.resource())
		rids = append(rids, r.Rid.Int64)
		values = append(values, rowValues)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %s: %w", query.Type, err)
	}
	if len(page.Resources) > count {
		page.Resources = page.Resources[:count]
		page.Next = rids[count-1]
		page.NextValues = values[count-1]
	}
	return page, nil
}

// sortExpr returns the value of one sort key for the resources row r:
// the smallest index value ascending or the largest descending, NULL when
// the resource has none.
func sortExpr(typ string, k emr.SortKey) (string, []any) {
	switch k.Kind {
	case emr.CondID:
		return "r.res_id", nil
	case emr.CondLastUpdated:
		return "r.last_updated", nil
	}
	agg := "MIN"
	if k.Desc {
		agg = "MAX"
	}
	table, column := sortColumn(k.Kind, k.Desc)
	return "(SELECT " + agg + "(" + column + ") FROM " + table + " s WHERE s.rid = r.rid AND s.res_type = ? AND s.param = ?)",
		[]any{typ, k.Param}
}

// keysetCond writes "the row sorts after the cursor" over the columns of
// the derived table t, in the order that searchSorted sets: for each key,
// values first in the key's direction and NULL last, then the row key
// ascending. It is the disjunction, over each key i, of "keys before i
// equal the cursor and key i sorts after it", plus "all keys equal and the
// row key is greater". Nothing sorts after a NULL at key i except other
// NULLs, which the equality branch handles.
func keysetCond(keys []emr.SortKey, after []emr.SortValue, rid int64) (string, []any) {
	var terms []string
	var args []any
	var equal []string
	var equalArgs []any
	for i, k := range keys {
		col := "t.s" + strconv.Itoa(i)
		v := after[i]
		if !v.Null {
			op := " > ?"
			if k.Desc {
				op = " < ?"
			}
			term := append(append([]string{}, equal...), "("+col+op+" OR "+col+" IS NULL)")
			terms = append(terms, "("+strings.Join(term, " AND ")+")")
			args = append(append(args, equalArgs...), sortArg(k.Kind, v))
		}
		if v.Null {
			equal = append(equal, col+" IS NULL")
		} else {
			equal = append(equal, col+" = ?")
			equalArgs = append(equalArgs, sortArg(k.Kind, v))
		}
	}
	last := append(append([]string{}, equal...), "t.rid > ?")
	terms = append(terms, "("+strings.Join(last, " AND ")+")")
	args = append(append(args, equalArgs...), rid)
	return "(" + strings.Join(terms, " OR ") + ")", args
}

// sortArg is the bind value of a sort value of a key of kind.
func sortArg(kind emr.CondKind, v emr.SortValue) any {
	switch sortValueKind(kind) {
	case sortInt:
		return v.Int
	case sortNumber:
		return v.Number
	}
	return v.Text
}

type sortValueType int

const (
	sortText sortValueType = iota
	sortInt
	sortNumber
)

func sortValueKind(kind emr.CondKind) sortValueType {
	switch kind {
	case emr.CondDate, emr.CondLastUpdated:
		return sortInt
	case emr.CondNumber:
		return sortNumber
	}
	return sortText
}

// sortScan receives one sort value column.
type sortScan struct {
	kind   sortValueType
	text   sql.NullString
	int    sql.NullInt64
	number sql.NullFloat64
}

func (s *sortScan) target(kind emr.CondKind) any {
	s.kind = sortValueKind(kind)
	switch s.kind {
	case sortInt:
		return &s.int
	case sortNumber:
		return &s.number
	}
	return &s.text
}

func (s *sortScan) value() emr.SortValue {
	switch s.kind {
	case sortInt:
		return emr.SortValue{Null: !s.int.Valid, Int: s.int.Int64}
	case sortNumber:
		return emr.SortValue{Null: !s.number.Valid, Number: s.number.Float64}
	}
	return emr.SortValue{Null: !s.text.Valid, Text: s.text.String}
}
