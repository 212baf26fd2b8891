package storage_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestParseDSN(t *testing.T) {
	cases := []struct {
		name    string
		dsn     string
		dialect storage.Dialect
		conn    string
		wantErr bool
	}{
		{name: "default", dsn: "", dialect: storage.SQLite, conn: "nexus.db"},
		{name: "sqlite path", dsn: "sqlite:/var/lib/nexus/x.db", dialect: storage.SQLite, conn: "/var/lib/nexus/x.db"},
		{name: "sqlite slashes", dsn: "sqlite://rel.db", dialect: storage.SQLite, conn: "rel.db"},
		{name: "postgres", dsn: "postgres://u@h/db", dialect: storage.Postgres, conn: "postgres://u@h/db"},
		{name: "postgresql", dsn: "postgresql://u@h/db", dialect: storage.Postgres, conn: "postgresql://u@h/db"},
		{name: "empty sqlite", dsn: "sqlite:", wantErr: true},
		{name: "unknown", dsn: "mysql://u@h/db", wantErr: true},
		{name: "bare path", dsn: "nexus.db", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, conn, err := storage.ParseDSN(tc.dsn)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.dialect, d)
			assert.Equal(t, tc.conn, conn)
		})
	}
}

func TestParseDSNHidesPassword(t *testing.T) {
	_, _, err := storage.ParseDSN("postgres://user:s3cret@host:bad-port/db")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestSQLitePragmas(t *testing.T) {
	db := storagetest.SQLite(t)
	ctx := context.Background()
	var mode string
	require.NoError(t, db.Writer.GetContext(ctx, &mode, "PRAGMA journal_mode"))
	assert.Equal(t, "wal", mode)
	var sync, fk int
	require.NoError(t, db.Reader.GetContext(ctx, &sync, "PRAGMA synchronous"))
	assert.Equal(t, 2, sync, "synchronous=FULL")
	require.NoError(t, db.Reader.GetContext(ctx, &fk, "PRAGMA foreign_keys"))
	assert.Equal(t, 1, fk)
	assert.Equal(t, 1, db.Writer.Stats().MaxOpenConnections, "one writer connection")
	var writerTemp, readerTemp int
	require.NoError(t, db.Writer.GetContext(ctx, &writerTemp, "PRAGMA temp_store"))
	assert.Equal(t, 2, writerTemp, "the writer keeps statement journals in memory")
	require.NoError(t, db.Reader.GetContext(ctx, &readerTemp, "PRAGMA temp_store"))
	assert.Equal(t, 0, readerTemp, "readers keep temporary files on disk")
}

func twoStep(second bool) storage.Migrations {
	files := fstest.MapFS{
		"sqlite/0001_first.up.sql":     {Data: []byte("CREATE TABLE first (id INTEGER)")},
		"sqlite/0001_first.down.sql":   {Data: []byte("DROP TABLE first")},
		"postgres/0001_first.up.sql":   {Data: []byte("CREATE TABLE first (id INTEGER)")},
		"postgres/0001_first.down.sql": {Data: []byte("DROP TABLE first")},
	}
	if second {
		files["sqlite/0002_second.up.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE second (id INTEGER)")}
		files["sqlite/0002_second.down.sql"] = &fstest.MapFile{Data: []byte("DROP TABLE second")}
		files["postgres/0002_second.up.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE second (id INTEGER)")}
		files["postgres/0002_second.down.sql"] = &fstest.MapFile{Data: []byte("DROP TABLE second")}
	}
	return storage.Migrations{Component: "demo", FS: files}
}

func TestCheckSchema(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		require.NoError(t, db.CheckSchema(ctx, twoStep(false)), "an empty database is migrated")
		v, err := db.SchemaVersion(ctx, "demo")
		require.NoError(t, err)
		assert.Equal(t, 1, v)

		err = db.CheckSchema(ctx, twoStep(true))
		assert.ErrorIs(t, err, storage.ErrSchemaOutdated, "an older schema is rejected, not migrated")
		v, err = db.SchemaVersion(ctx, "demo")
		require.NoError(t, err)
		assert.Equal(t, 1, v)

		require.NoError(t, db.Migrate(ctx, twoStep(true)))
		require.NoError(t, db.CheckSchema(ctx, twoStep(true)))
		assert.ErrorIs(t, db.CheckSchema(ctx, twoStep(false)), storage.ErrSchemaNewer)

		require.NoError(t, db.MigrateDown(ctx, twoStep(true), 1))
		v, err = db.SchemaVersion(ctx, "demo")
		require.NoError(t, err)
		assert.Equal(t, 1, v)
	})
}

func TestMigrationNumbering(t *testing.T) {
	gap := storage.Migrations{Component: "gap", FS: fstest.MapFS{
		"sqlite/0001_a.up.sql": {Data: []byte("SELECT 1")},
		"sqlite/0003_c.up.sql": {Data: []byte("SELECT 1")},
	}}
	_, err := gap.Load(storage.SQLite)
	assert.Error(t, err, "a gap in the numbers is an error")
	bad := storage.Migrations{Component: "bad", FS: fstest.MapFS{"sqlite/first.up.sql": {Data: []byte("SELECT 1")}}}
	_, err = bad.Load(storage.SQLite)
	assert.Error(t, err)
}
