package storage_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestStatementCacheResults(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		_, err := db.Writer.ExecContext(ctx, "CREATE TABLE cache_demo (id INTEGER PRIMARY KEY, label TEXT NOT NULL)")
		require.NoError(t, err)

		tx, err := db.Writer.BeginTxx(ctx, nil)
		require.NoError(t, err)
		for i := 1; i <= 300; i++ {
			_, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO cache_demo (id, label) VALUES (?, ?)"), i, fmt.Sprint("row ", i))
			require.NoError(t, err)
		}
		_, err = tx.ExecContext(ctx, db.Rebind("INSERT INTO cache_demo (id, label) VALUES (?, ?)"), 1, "duplicate")
		require.Error(t, err, "a failing run of a cached statement reports its error")
		require.NoError(t, tx.Rollback())

		// The rollback left nothing, and the statement works again.
		for i := 1; i <= 20; i++ {
			_, err := db.Writer.ExecContext(ctx, db.Rebind("INSERT INTO cache_demo (id, label) VALUES (?, ?)"), i, fmt.Sprint("row ", i))
			require.NoError(t, err)
		}
		var n int
		require.NoError(t, db.Writer.GetContext(ctx, &n, db.Rebind("SELECT COUNT(*) FROM cache_demo WHERE id > ?"), 0))
		assert.Equal(t, 20, n)
	})
}

func TestStatementCacheNestedQuery(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		_, err := db.Writer.ExecContext(ctx, "CREATE TABLE cache_nested (id INTEGER PRIMARY KEY)")
		require.NoError(t, err)
		_, err = db.Writer.ExecContext(ctx, "INSERT INTO cache_nested (id) VALUES (1), (2), (3)")
		require.NoError(t, err)

		// On SQLite the one writer connection runs both queries, so the
		// second runs while the cached statement of the first is busy.
		query := db.Rebind("SELECT id FROM cache_nested WHERE id >= ? ORDER BY id")
		tx, err := db.Writer.BeginTxx(ctx, nil)
		require.NoError(t, err)
		defer tx.Rollback()
		var outer []int
		var inner [][]int
		if db.Dialect == storage.Postgres {
			// lib/pq reads one result at a time per connection, so the
			// outer rows are read first.
			require.NoError(t, tx.SelectContext(ctx, &outer, query, 1))
			for _, id := range outer {
				var ids []int
				require.NoError(t, tx.SelectContext(ctx, &ids, query, id))
				inner = append(inner, ids)
			}
		} else {
			rows, err := tx.QueryxContext(ctx, query, 1)
			require.NoError(t, err)
			for rows.Next() {
				var id int
				require.NoError(t, rows.Scan(&id))
				outer = append(outer, id)
				var ids []int
				require.NoError(t, tx.SelectContext(ctx, &ids, query, id))
				inner = append(inner, ids)
			}
			require.NoError(t, rows.Err())
			require.NoError(t, rows.Close())
		}
		assert.Equal(t, []int{1, 2, 3}, outer)
		assert.Equal(t, [][]int{{1, 2, 3}, {2, 3}, {3}}, inner)
	})
}

func TestStatementCacheSchemaChange(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		_, err := db.Writer.ExecContext(ctx, "CREATE TABLE cache_schema (id INTEGER PRIMARY KEY)")
		require.NoError(t, err)
		_, err = db.Writer.ExecContext(ctx, "INSERT INTO cache_schema (id) VALUES (1)")
		require.NoError(t, err)
		query := db.Rebind("SELECT * FROM cache_schema WHERE id = ?")
		columns := func() ([]string, error) {
			rows, err := db.Writer.QueryxContext(ctx, query, 1)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			cols, err := rows.Columns()
			if err != nil {
				return nil, err
			}
			for rows.Next() {
			}
			return cols, rows.Err()
		}
		cols, err := columns()
		require.NoError(t, err)
		assert.Equal(t, []string{"id"}, cols)

		_, err = db.Writer.ExecContext(ctx, "ALTER TABLE cache_schema ADD COLUMN extra TEXT")
		require.NoError(t, err)
		// PostgreSQL rejects a prepared statement whose result columns
		// changed. The cache drops it on that error, so the next run
		// prepares it again.
		cols, err = columns()
		if err != nil {
			cols, err = columns()
		}
		require.NoError(t, err)
		assert.Equal(t, []string{"id", "extra"}, cols)
	})
}

func TestStatementCachePreparesOnServer(t *testing.T) {
	for _, size := range []int{0, -1} {
		t.Run(fmt.Sprint("size ", size), func(t *testing.T) {
			db := storagetest.PostgresWith(t, storage.Options{StatementCacheSize: size})
			ctx := context.Background()
			tx, err := db.Writer.BeginTxx(ctx, nil)
			require.NoError(t, err)
			defer tx.Rollback()
			var one int
			require.NoError(t, tx.GetContext(ctx, &one, "SELECT $1::int + 0", 1))
			var prepared int
			require.NoError(t, tx.GetContext(ctx, &prepared,
				"SELECT COUNT(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 0'"))
			if size < 0 {
				assert.Equal(t, 0, prepared, "without the cache the statement is not kept")
			} else {
				assert.Equal(t, 1, prepared, "the cache keeps the statement on the connection")
			}
		})
	}
}

func TestStatementCacheEviction(t *testing.T) {
	opts := storage.Options{StatementCacheSize: 2}
	openers := map[string]func(testing.TB, storage.Options) *storage.DB{
		"sqlite": storagetest.SQLiteWith, "postgres": storagetest.PostgresWith,
	}
	for name, open := range openers {
		t.Run(name, func(t *testing.T) {
			db := open(t, opts)
			ctx := context.Background()
			// Five shapes through a cache of two evict each other on every
			// round and keep returning the right results.
			for round := 0; round < 3; round++ {
				for k := 1; k <= 5; k++ {
					query := fmt.Sprintf("SELECT %d + ?", k)
					if db.Dialect == storage.Postgres {
						query = fmt.Sprintf("SELECT %d + $1::int", k)
					}
					var got int
					require.NoError(t, db.Writer.GetContext(ctx, &got, query, 10))
					assert.Equal(t, 10+k, got)
				}
			}
		})
	}
}
