package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/nexus-health-360/nexus/storage"
)

// rowBatch collects the rows of multi-row INSERTs.
type rowBatch struct {
	prefix string
	// suffix follows the VALUES list.
	suffix string
	width  int
	tuple  string
	args   []any
	rows   int
	// arrayTypes are the PostgreSQL types of the columns, such as
	// "bigint". PostgreSQL gets all rows in one INSERT that reads one
	// array per column, so that writing them costs one round trip
	// whatever their number.
	arrayTypes []string
}

// maxBatchArgs bounds the arguments collected before the rows are written.
const maxBatchArgs = 30000

// maxChunkArgs bounds the arguments of one INSERT on SQLite. exec writes
// the rows in chunks of a power of two rows each, so an INSERT has one of
// a few shapes per table and the connection's statement cache can keep
// them.
const maxChunkArgs = 512

// start begins a batch of rows for the INSERT prefix, which ends in
// "VALUES ", with one value for each PostgreSQL column type in types.
func (b *rowBatch) start(prefix string, types ...string) {
	b.prefix = prefix
	b.width = len(types)
	b.arrayTypes = types
	b.tuple = "(" + strings.TrimSuffix(strings.Repeat("?,", b.width), ",") + ")"
}

func (b *rowBatch) add(args ...any) {
	b.args = append(b.args, args...)
	b.rows++
}

// addFlush adds a row and executes the batch once it is full.
func (b *rowBatch) addFlush(ctx context.Context, t *txn, args ...any) error {
	b.add(args...)
	if len(b.args)+b.width > maxBatchArgs {
		return b.exec(ctx, t)
	}
	return nil
}

func (b *rowBatch) exec(ctx context.Context, t *txn) error {
	if t.db.Dialect == storage.Postgres && b.arrayTypes != nil {
		return b.execArrays(ctx, t)
	}
	maxRows := 1
	for (maxRows*2)*b.width <= maxChunkArgs {
		maxRows *= 2
	}
	done := 0
	for done < b.rows {
		n := maxRows
		for n > b.rows-done {
			n /= 2
		}
		query := t.db.Rebind(b.prefix + strings.Repeat(b.tuple+",", n-1) + b.tuple + b.suffix)
		if _, err := t.tx.ExecContext(ctx, query, b.args[done*b.width:(done+n)*b.width]...); err != nil {
			return fmt.Errorf("write search index: %w", mapErr(err))
		}
		done += n
	}
	b.args = b.args[:0]
	b.rows = 0
	return nil
}

// execArrays writes the rows in one INSERT ... SELECT from unnest, which
// keeps the rows in the order they were added.
func (b *rowBatch) execArrays(ctx context.Context, t *txn) error {
	if b.rows == 0 {
		return nil
	}
	arrays := make([]any, b.width)
	casts := make([]string, b.width)
	names := make([]string, b.width)
	for c, typ := range b.arrayTypes {
		column, err := b.column(c, typ)
		if err != nil {
			return fmt.Errorf("write search index: %w", err)
		}
		arrays[c] = column
		casts[c] = fmt.Sprintf("$%d::%s[]", c+1, typ)
		names[c] = fmt.Sprintf("u.c%d", c+1)
	}
	query := strings.TrimSuffix(b.prefix, "VALUES ") + "SELECT " + strings.Join(names, ", ") +
		" FROM unnest(" + strings.Join(casts, ", ") + ") WITH ORDINALITY AS u(" +
		strings.ReplaceAll(strings.Join(names, ", "), "u.", "") + ", n) ORDER BY u.n" + b.suffix
	if _, err := t.tx.ExecContext(ctx, query, arrays...); err != nil {
		return fmt.Errorf("write search index: %w", mapErr(err))
	}
	b.args = b.args[:0]
	b.rows = 0
	return nil
}

// column returns the values of column c as an array argument of
// PostgreSQL type typ.
func (b *rowBatch) column(c int, typ string) (any, error) {
	switch typ {
	case "bigint":
		values := make([]int64, b.rows)
		for r := range values {
			switch v := b.args[r*b.width+c].(type) {
			case int64:
				values[r] = v
			case int:
				values[r] = int64(v)
			default:
				return nil, fmt.Errorf("column %d of %s: %T is not an integer", c+1, b.prefix, v)
			}
		}
		return pq.Array(values), nil
	case "double precision":
		values := make([]float64, b.rows)
		for r := range values {
			v, ok := b.args[r*b.width+c].(float64)
			if !ok {
				return nil, fmt.Errorf("column %d of %s: %T is not a float64", c+1, b.prefix, b.args[r*b.width+c])
			}
			values[r] = v
		}
		return pq.Array(values), nil
	default:
		values := make([]string, b.rows)
		for r := range values {
			v, ok := b.args[r*b.width+c].(string)
			if !ok {
				return nil, fmt.Errorf("column %d of %s: %T is not a string", c+1, b.prefix, b.args[r*b.width+c])
			}
			values[r] = v
		}
		return pq.Array(values), nil
	}
}
