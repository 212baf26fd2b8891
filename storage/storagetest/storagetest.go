// Package storagetest opens throwaway databases for tests of the stores
// built on package storage.
//
// SQLite databases live in the test's temporary folder and always run.
// PostgreSQL databases run when NEXUS_TEST_POSTGRES_URL names a server the
// tests may create schemas on; each test gets a schema of its own, dropped at
// cleanup. Without that variable the PostgreSQL variants skip with a message
// that starts with SkipMessage, so CI can check that none were skipped.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/nexus-health-360/nexus/storage"
)

// EnvPostgresURL names the environment variable with the PostgreSQL server
// for tests.
const EnvPostgresURL = "NEXUS_TEST_POSTGRES_URL"

// SkipMessage starts the message of every skipped PostgreSQL test.
const SkipMessage = "postgres test skipped: " + EnvPostgresURL + " is not set"

// SQLite opens a new SQLite database in a temporary folder, closed at
// cleanup.
func SQLite(t testing.TB) *storage.DB {
	t.Helper()
	return SQLiteWith(t, storage.Options{})
}

// SQLiteWith is SQLite with opts.
func SQLiteWith(t testing.TB, opts storage.Options) *storage.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := storage.Open(context.Background(), "sqlite:"+path, opts)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Postgres opens a connection to a new, empty schema on the server named by
// NEXUS_TEST_POSTGRES_URL, or skips the test when it is not set.
func Postgres(t testing.TB) *storage.DB {
	t.Helper()
	return PostgresWith(t, storage.Options{})
}

// PostgresWith is Postgres with opts. A pool size of 0 means 8
// connections.
func PostgresWith(t testing.TB, opts storage.Options) *storage.DB {
	t.Helper()
	if opts.MaxReaders == 0 {
		opts.MaxReaders = 8
	}
	base := os.Getenv(EnvPostgresURL)
	if base == "" {
		t.Skip(SkipMessage)
	}
	ctx := context.Background()
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatalf("random schema name: %v", err)
	}
	schema := "test_" + hex.EncodeToString(suffix)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		cleanup, err := sqlx.Open("postgres", base)
		if err != nil {
			return
		}
		defer cleanup.Close()
		cleanup.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})

	dsn, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatalf("postgres url: %v", err)
	}
	db, err := storage.Open(ctx, dsn, opts)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// withSearchPath adds a search_path run-time parameter, which lib/pq passes
// to the server at connection start.
func withSearchPath(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Backend is a named way to open a test database.
type Backend struct {
	Name string
	Open func(t testing.TB) *storage.DB
}

// Backends lists SQLite and PostgreSQL.
func Backends() []Backend {
	return []Backend{{Name: "sqlite", Open: SQLite}, {Name: "postgres", Open: Postgres}}
}

// Each runs fn as a subtest on a fresh database of every backend.
func Each(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, b.Open(t))
		})
	}
}
