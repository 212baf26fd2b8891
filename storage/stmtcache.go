package storage

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
)

// DefaultStatementCacheSize is the number of prepared statements each
// connection keeps when Options.StatementCacheSize is 0.
const DefaultStatementCacheSize = 256

// maxCachedArgs bounds the arguments of a cached statement. Larger
// statements (long IN lists, bulk inserts) are rare, and caching each
// shape of them would evict the frequent small ones.
const maxCachedArgs = 1000

// cachingConnector opens driver connections that keep their prepared
// statements by query text. Compiling a small statement costs SQLite more
// than running it, and lib/pq spends one extra round trip on every
// unprepared statement with arguments, so a statement run again on the
// same connection skips that work.
//
// Only the statements that database/sql runs without preparing them
// (DB.ExecContext, Tx.QueryContext and the like) go through the cache. A
// statement the caller prepares itself is its own, as before. Statements
// without arguments, with more than maxCachedArgs arguments or with a
// semicolon (scripts such as migrations) are not cached.
type cachingConnector struct {
	driver driver.Driver
	dsn    string
	size   int
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	var conn driver.Conn
	var err error
	if dc, ok := c.driver.(driver.DriverContext); ok {
		var connector driver.Connector
		if connector, err = dc.OpenConnector(c.dsn); err != nil {
			return nil, err
		}
		conn, err = connector.Connect(ctx)
	} else {
		conn, err = c.driver.Open(c.dsn)
	}
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, size: c.size, byQuery: map[string]*list.Element{}, order: list.New()}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.driver }

// openCaching opens a pool on the driver registered as driverName whose
// connections each cache up to size statements.
func openCaching(driverName, dsn string, size int) (*sql.DB, error) {
	probe, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	probe.Close()
	return sql.OpenDB(cachingConnector{driver: drv, dsn: dsn, size: size}), nil
}

// cachingConn is one driver connection with its statement cache.
// database/sql uses a connection from one goroutine at a time, so the
// cache needs no lock.
type cachingConn struct {
	driver.Conn
	size    int
	byQuery map[string]*list.Element
	// order contains *cachedStmt values, most recently used first.
	order *list.List
}

// cachedStmt is a prepared statement of one connection. A statement whose
// rows are still open is busy, and a second use of its query meanwhile
// runs unprepared, because one prepared statement runs one query at a
// time.
type cachedStmt struct {
	query   string
	stmt    driver.Stmt
	busy    bool
	evicted bool
}

func cacheable(query string, args []driver.NamedValue) bool {
	return len(args) > 0 && len(args) <= maxCachedArgs && !strings.Contains(query, ";")
}

// acquire returns the cached statement for query, preparing it on first
// use, or nil when it is busy.
func (c *cachingConn) acquire(ctx context.Context, query string) (*cachedStmt, error) {
	if e, ok := c.byQuery[query]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			return nil, nil
		}
		c.order.MoveToFront(e)
		cs.busy = true
		return cs, nil
	}
	st, err := c.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{query: query, stmt: st, busy: true}
	c.byQuery[query] = c.order.PushFront(cs)
	for c.order.Len() > c.size {
		c.evict(c.order.Back().Value.(*cachedStmt))
	}
	return cs, nil
}

// release ends a use of cs. A statement that failed is dropped from the
// cache, so that one broken by a schema change is prepared again.
func (c *cachingConn) release(cs *cachedStmt, failed bool) {
	cs.busy = false
	if failed && !cs.evicted {
		c.evict(cs)
		return
	}
	if cs.evicted {
		cs.stmt.Close()
	}
}

// evict removes cs from the cache and closes it unless it is busy, in
// which case release closes it.
func (c *cachingConn) evict(cs *cachedStmt) {
	if e, ok := c.byQuery[cs.query]; ok && e.Value == cs {
		c.order.Remove(e)
		delete(c.byQuery, cs.query)
	}
	cs.evicted = true
	if !cs.busy {
		cs.stmt.Close()
	}
}

func (c *cachingConn) prepare(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

// PrepareContext prepares a statement the caller owns, outside the cache.
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.prepare(ctx, query)
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if cacheable(query, args) {
		cs, err := c.acquire(ctx, query)
		if err != nil {
			return nil, err
		}
		if cs != nil {
			res, err := execStmt(ctx, cs.stmt, args)
			c.release(cs, err != nil)
			return res, err
		}
	}
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if cacheable(query, args) {
		cs, err := c.acquire(ctx, query)
		if err != nil {
			return nil, err
		}
		if cs != nil {
			rows, err := queryStmt(ctx, cs.stmt, args)
			if err != nil {
				c.release(cs, true)
				return nil, err
			}
			return &cachedRows{Rows: rows, conn: c, stmt: cs}, nil
		}
	}
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	if opts.Isolation != driver.IsolationLevel(sql.LevelDefault) || opts.ReadOnly {
		return nil, errors.New("storage: the driver supports no transaction options")
	}
	return c.Conn.Begin() //nolint:staticcheck // fallback for drivers without BeginTx
}

func (c *cachingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// Close closes the cached statements and then the connection.
func (c *cachingConn) Close() error {
	for e := c.order.Front(); e != nil; e = e.Next() {
		e.Value.(*cachedStmt).stmt.Close()
	}
	c.order.Init()
	clear(c.byQuery)
	return c.Conn.Close()
}

// cachedRows are the rows of a cached statement, which they keep busy
// until they are closed.
type cachedRows struct {
	driver.Rows
	conn *cachingConn
	stmt *cachedStmt
	// failed is set by an error of Next, after which the statement is
	// prepared again on its next use.
	failed bool
	closed bool
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.conn.release(r.stmt, r.failed || err != nil)
	}
	return err
}

func (r *cachedRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err != nil && !errors.Is(err, io.EOF) {
		r.failed = true
	}
	return err
}

// NOTE: the optional row interfaces (driver.RowsColumnTypeScanType and
// the like) are not forwarded, so Rows.ColumnTypes of a cached statement
// reports no database types. No store in this module calls it.

func execStmt(ctx context.Context, st driver.Stmt, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := st.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	values, err := ordinalValues(args)
	if err != nil {
		return nil, err
	}
	return st.Exec(values) //nolint:staticcheck // fallback for drivers without ExecContext
}

func queryStmt(ctx context.Context, st driver.Stmt, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := st.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	values, err := ordinalValues(args)
	if err != nil {
		return nil, err
	}
	return st.Query(values) //nolint:staticcheck // fallback for drivers without QueryContext
}

func ordinalValues(args []driver.NamedValue) ([]driver.Value, error) {
	values := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("storage: the driver supports no named arguments")
		}
		values[i] = a.Value
	}
	return values, nil
}
