// Package storage opens the databases that every Nexus domain store runs on
// and applies their embedded, numbered migrations.
//
// A data source name picks the backend:
//
//	sqlite:PATH       embedded SQLite through modernc.org/sqlite (no cgo)
//	postgres://...    PostgreSQL through github.com/lib/pq
//	postgresql://...  the same
//
// SQLite runs in WAL mode with synchronous=FULL, so an acknowledged write
// survives a crash of the process or the machine, with foreign keys on and a
// busy timeout. It has one writer connection and a pool of readers: SQLite
// allows one writer at a time, and a single writer connection turns lock
// contention into queueing inside database/sql instead of SQLITE_BUSY errors.
//
// A DB is safe for concurrent use.
package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"  // registers the "postgres" driver
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Dialect names a SQL backend.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DefaultDSN is the data source name used when none is given.
const DefaultDSN = "sqlite:nexus.db"

// DB is an open database. Writes go through Writer and reads through Reader;
// on PostgreSQL both are the same pool.
type DB struct {
	Dialect Dialect
	Writer  *sqlx.DB
	Reader  *sqlx.DB
	// Path is the database file for SQLite and empty for PostgreSQL.
	Path string
	// Cipher seals sensitive columns and Hasher hashes index values that
	// need only exact match; nil means plaintext. Set both, or neither,
	// before creating the stores on this DB, and keep them while it is open.
	Cipher Cipher
	Hasher Hasher

	// writes counts the rows that stores reported through NoteWrites.
	writes atomic.Int64
}

// NoteWrites adds n committed row writes to the count that Writes
// returns. Stores call it after a commit, so that a caller can refresh
// planner statistics when the data has grown (see Analyze).
func (db *DB) NoteWrites(n int) {
	db.writes.Add(int64(n))
}

// Writes returns the row writes reported through NoteWrites since Open.
func (db *DB) Writes() int64 {
	return db.writes.Load()
}

// Options tunes Open. The zero value is valid.
type Options struct {
	// BusyTimeout is how long an SQLite connection waits for a lock.
	// Default 10s.
	BusyTimeout time.Duration
	// MaxReaders is the size of the SQLite reader pool and the PostgreSQL
	// connection pool. Default: 4 × GOMAXPROCS, at least 4.
	MaxReaders int
	// MmapBytes is how much of an SQLite database file is read through a
	// memory map. Default 1 GiB; a negative value turns it off.
	MmapBytes int64
	// StatementTimeout bounds one PostgreSQL statement, unless the data
	// source name sets statement_timeout itself. Default 60s.
	StatementTimeout time.Duration
	// StatementCacheSize is how many prepared statements each connection
	// keeps by query text (see cachingConnector). Default
	// DefaultStatementCacheSize. A negative value turns the cache off. A
	// PostgreSQL pooler in transaction mode needs that, because it does
	// not keep a connection's prepared statements.
	StatementCacheSize int
}

// WithDefaults returns o with zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Second
	}
	if o.MaxReaders <= 0 {
		o.MaxReaders = max(4, 4*runtime.GOMAXPROCS(0))
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = 60 * time.Second
	}
	if o.StatementCacheSize == 0 {
		o.StatementCacheSize = DefaultStatementCacheSize
	}
	switch {
	case o.MmapBytes == 0:
		o.MmapBytes = 1 << 30
	case o.MmapBytes < 0:
		o.MmapBytes = 0
	}
	return o
}

// ParseDSN splits a data source name into its dialect and the driver's
// connection string (a file path for SQLite).
func ParseDSN(dsn string) (Dialect, string, error) {
	switch {
	case dsn == "":
		return ParseDSN(DefaultDSN)
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return "", "", errors.New("storage: invalid data source name: sqlite: needs a file path, as in sqlite:nexus.db")
		}
		return SQLite, path, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			return "", "", fmt.Errorf("storage: invalid postgres data source name: %w", redact(err))
		}
		return Postgres, dsn, nil
	default:
		return "", "", errors.New("storage: unsupported data source name: use sqlite:PATH or postgres://USER@HOST/DB")
	}
}

// redact drops the URL from a url.Error, because it may hold a password.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Open opens the database named by dsn and pings it.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	opts = opts.WithDefaults()
	dialect, conn, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	switch dialect {
	case SQLite:
		return openSQLite(ctx, conn, opts)
	default:
		return openPostgres(ctx, conn, opts)
	}
}

func openSQLite(ctx context.Context, path string, opts Options) (*DB, error) {
	// A missing folder is an error rather than created: a mistyped path
	// would otherwise serve an empty clinical record.
	if info, err := os.Stat(filepath.Dir(path)); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("storage: open sqlite %s: folder %s does not exist", path, filepath.Dir(path))
	}
	pragmas := []string{
		"journal_mode(WAL)",
		"synchronous(FULL)",
		"foreign_keys(1)",
		fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()),
		// Reads through a memory map instead of one pread system call per
		// page; writes still go through the WAL, so durability is the same.
		fmt.Sprintf("mmap_size(%d)", opts.MmapBytes),
	}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	// _txlock=immediate takes the write lock at BEGIN, so two writers never
	// both read and then fail to upgrade their lock.
	readerDSN := "file:" + path + "?" + q.Encode()
	// The writer keeps its statement journals in memory. SQLite writes one
	// for each statement of a transaction that changes pages the
	// transaction already changed, so that the statement alone can be
	// undone, and a file for it costs a write system call per page. Readers
	// keep temporary files on disk, so large sorts stay out of memory.
	q.Add("_pragma", "temp_store(MEMORY)")
	writerDSN := "file:" + path + "?" + q.Encode() + "&_txlock=immediate"

	writer, err := openPool("sqlite", writerDSN, opts)
	if err != nil {
		return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxIdleTime(0)
	writer.SetConnMaxLifetime(0)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
	}
	reader, err := openPool("sqlite", readerDSN, opts)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
	}
	reader.SetMaxOpenConns(opts.MaxReaders)
	reader.SetMaxIdleConns(opts.MaxReaders)
	return &DB{Dialect: SQLite, Writer: writer, Reader: reader, Path: path}, nil
}

func openPostgres(ctx context.Context, conn string, opts Options) (*DB, error) {
	if u, err := url.Parse(conn); err == nil {
		q := u.Query()
		if q.Get("statement_timeout") == "" {
			// lib/pq sends unknown parameters to the server as run-time
			// settings at connection start.
			q.Set("statement_timeout", strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10))
			u.RawQuery = q.Encode()
			conn = u.String()
		}
	}
	db, err := openPool("postgres", conn, opts)
	if err != nil {
		return nil, fmt.Errorf("storage: open postgres: %w", redact(err))
	}
	db.SetMaxOpenConns(opts.MaxReaders)
	db.SetMaxIdleConns(opts.MaxReaders)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: connect to postgres: %w", redact(err))
	}
	return &DB{Dialect: Postgres, Writer: db, Reader: db}, nil
}

// openPool opens a pool of the driver registered as driverName, with the
// statement cache unless opts turns it off.
func openPool(driverName, dsn string, opts Options) (*sqlx.DB, error) {
	if opts.StatementCacheSize < 0 {
		return sqlx.Open(driverName, dsn)
	}
	db, err := openCaching(driverName, dsn, opts.StatementCacheSize)
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(db, driverName), nil
}

// Close closes every connection.
func (db *DB) Close() error {
	err := db.Writer.Close()
	if db.Reader != db.Writer {
		err = errors.Join(err, db.Reader.Close())
	}
	return err
}

// Rebind rewrites a query written with ? placeholders for the dialect.
func (db *DB) Rebind(query string) string {
	return db.Writer.Rebind(query)
}

// Analyze refreshes the statistics the query planner chooses indexes by.
// SQLite keeps none until asked, and without them it may scan a whole
// table where an index lookup would do. PostgreSQL's autovacuum refreshes
// them, but only after a minute or more, and while a table grows from
// empty its planner may walk every row for a lookup that one index probe
// would do. So nexusd runs this after imports, and while serving each time
// the writes have doubled and at least hourly. On SQLite it samples at
// most about 1,000 rows per index, so it stays fast on large databases.
func (db *DB) Analyze(ctx context.Context) error {
	if db.Dialect == SQLite {
		if _, err := db.Writer.ExecContext(ctx, "PRAGMA analysis_limit=1000"); err != nil {
			return fmt.Errorf("storage: analyze: %w", err)
		}
	}
	if _, err := db.Writer.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("storage: analyze: %w", err)
	}
	return nil
}
