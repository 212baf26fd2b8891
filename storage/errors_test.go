package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestClassifyConstraintErrors(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		_, err := db.Writer.ExecContext(ctx, `CREATE TABLE parent (id INTEGER PRIMARY KEY);
			CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id), n INTEGER CHECK (n >= 0))`)
		require.NoError(t, err)
		_, err = db.Writer.ExecContext(ctx, `INSERT INTO parent (id) VALUES (1)`)
		require.NoError(t, err)
		cases := []struct {
			name string
			stmt string
			want storage.ErrorKind
		}{
			{name: "unique", stmt: `INSERT INTO parent (id) VALUES (1)`, want: storage.ErrorUnique},
			{name: "foreign key", stmt: `INSERT INTO child (id, parent, n) VALUES (1, 9, 0)`, want: storage.ErrorForeignKey},
			{name: "check", stmt: `INSERT INTO child (id, parent, n) VALUES (2, 1, -1)`, want: storage.ErrorCheck},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := db.Writer.ExecContext(ctx, tc.stmt)
				require.Error(t, err)
				kind, label := storage.Classify(err)
				assert.Equal(t, tc.want, kind)
				assert.NotEmpty(t, label)
			})
		}
		kind, _ := storage.Classify(errors.New("something else"))
		assert.Equal(t, storage.ErrorOther, kind)
	})
}
