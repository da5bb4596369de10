package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	modernc "modernc.org/sqlite"
)

// The write gate: this process's writers take turns on the database file in
// Go, before SQLite's write lock, instead of in SQLite's busy handler.
//
// SQLite lets one writer at a time hold the file, and a connection that
// finds it taken waits in its busy handler, which sleeps and retries: 1 ms,
// then 2, 5, 10, up to 100 ms between tries. Under load the lock is then
// free for much of the time while the writers that want it sleep, and the
// embedded default confirmed fewer orders per second than its single core
// of work allowed. Behind the gate a writer waits on a channel and starts
// the moment the previous one commits; SQLite's busy handler only ever
// waits for another process (a backup, the sqlite3 shell).
//
// What takes the gate, on a connection not already holding it: every
// transaction (with _txlock=immediate each one takes the write lock at
// BEGIN anyway), and every statement outside a transaction but a SELECT
// (an INSERT, an UPDATE, a DELETE, a WITH that may write, a pragma). A
// transaction keeps the gate until it commits or rolls back.
//
// The gate changes no rule of the pool (see maxOpenConns): code holding a
// transaction must not wait for a second connection's write. Such a wait
// used to fail after busy_timeout; it now fails after the same time
// (gateTimeout), with errGateTimeout.

// gateTimeout bounds a wait for the gate, as busy_timeout bounds a wait in
// SQLite's busy handler.
const gateTimeout = 10 * time.Second

// errGateTimeout: another writer of this process held the database longer
// than gateTimeout. Like SQLITE_BUSY, a transient error.
var errGateTimeout = errors.New("sqlite: the database is locked: another writer of this process held it past the gate's timeout")

// gatedConnector opens modernc connections that share one write gate.
type gatedConnector struct {
	dsn     string
	drv     *modernc.Driver
	gate    chan struct{} // a token: whoever holds it writes
	queue   *writeQueue   // single-statement writes waiting for it (groupcommit.go)
	timeout time.Duration // gateTimeout, but in tests
}

func newGatedConnector(dsn string) *gatedConnector {
	return &gatedConnector{dsn: dsn, drv: &modernc.Driver{}, gate: make(chan struct{}, 1), queue: &writeQueue{}, timeout: gateTimeout}
}

func (c *gatedConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("sqlite: the driver's connection %T lacks the context methods", conn)
	}
	return &gatedConn{inner: inner, gate: c.gate, queue: c.queue, timeout: c.timeout, stmts: stmtCache{m: map[string]*cachedStmt{}}}, nil
}

func (c *gatedConnector) Driver() driver.Driver { return c.drv }

// sqliteConn is what database/sql uses of a modernc connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// gatedConn is a modernc connection whose writes take the gate. database/sql
// uses a connection from one goroutine at a time, so holding needs no lock.
type gatedConn struct {
	inner   sqliteConn
	gate    chan struct{}
	queue   *writeQueue
	timeout time.Duration
	stmts   stmtCache // stmtcache.go
	holding bool      // in a transaction, which holds the gate until it ends
}

func (c *gatedConn) acquire(ctx context.Context) error {
	select {
	case c.gate <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(c.timeout)
	defer t.Stop()
	select {
	case c.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errGateTimeout
	}
}

func (c *gatedConn) release() { <-c.gate }

// gated runs a statement outside a transaction behind the gate unless it
// only reads; inside one the transaction holds it already.
func (c *gatedConn) gated(ctx context.Context, query string, run func() error) error {
	if c.holding || readOnly(query) {
		return run()
	}
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer c.release()
	return run()
}

// readOnly: query is a SELECT (so it writes nothing). Anything else,
// a WITH included (its statement may write), takes the gate.
func readOnly(query string) bool {
	_, ok := afterKeyword(query, "select")
	return ok
}

// afterKeyword reports whether query, past its leading space, starts with
// kw (in any case), and returns what follows it.
func afterKeyword(query, kw string) (rest string, ok bool) {
	q := strings.TrimLeftFunc(query, unicode.IsSpace)
	if len(q) < len(kw) || !strings.EqualFold(q[:len(kw)], kw) {
		return "", false
	}
	return q[len(kw):], true
}

func (c *gatedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	tx, err := c.inner.BeginTx(ctx, opts)
	if err != nil {
		c.release()
		return nil, err
	}
	c.holding = true
	return &gatedTx{inner: tx, conn: c}, nil
}

func (c *gatedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *gatedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (res driver.Result, err error) {
	if !c.holding && groupable(query) {
		return c.groupWrite(ctx, query, args)
	}
	err = c.gated(ctx, query, func() error {
		res, err = c.exec(ctx, query, args)
		return err
	})
	return res, err
}

// QueryContext: a write outside a transaction (INSERT ... RETURNING)
// keeps the gate until its rows are closed, since SQLite's implicit
// transaction lasts until then.
func (c *gatedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.query(ctx, query, func() (driver.Rows, error) { return c.queryRows(ctx, query, args) })
}

func (c *gatedConn) query(ctx context.Context, query string, run func() (driver.Rows, error)) (driver.Rows, error) {
	if c.holding || readOnly(query) {
		return run()
	}
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	rows, err := run()
	if err != nil {
		c.release()
		return nil, err
	}
	return &gatedRows{Rows: rows, conn: c}, nil
}

// gatedRows hold the gate for a write's rows until they are closed.
type gatedRows struct {
	driver.Rows
	conn     *gatedConn
	released bool
}

func (r *gatedRows) Close() error {
	err := r.Rows.Close()
	if !r.released {
		r.released = true
		r.conn.release()
	}
	return err
}

func (c *gatedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &gatedStmt{Stmt: st, conn: c, query: query}, nil
}

func (c *gatedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *gatedConn) Close() error {
	c.closeStmts()
	if c.holding { // closed inside a transaction: SQLite rolls it back
		c.holding = false
		c.release()
	}
	return c.inner.Close()
}

func (c *gatedConn) Ping(ctx context.Context) error         { return c.inner.Ping(ctx) }
func (c *gatedConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }
func (c *gatedConn) IsValid() bool                          { return c.inner.IsValid() }

// CheckNamedValue defers to the driver's own conversion when it has one.
func (c *gatedConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.inner.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type gatedTx struct {
	inner driver.Tx
	conn  *gatedConn
}

func (t *gatedTx) Commit() error   { return t.end(t.inner.Commit) }
func (t *gatedTx) Rollback() error { return t.end(t.inner.Rollback) }

func (t *gatedTx) end(fn func() error) error {
	err := fn()
	if t.conn.holding {
		t.conn.holding = false
		t.conn.release()
	}
	return err
}

// gatedStmt is a prepared statement; executed outside a transaction, it
// takes the gate as the connection's own Exec and Query do.
type gatedStmt struct {
	driver.Stmt
	conn  *gatedConn
	query string
}

func (s *gatedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (res driver.Result, err error) {
	ex, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, fmt.Errorf("sqlite: statement %T lacks ExecContext", s.Stmt)
	}
	err = s.conn.gated(ctx, s.query, func() error {
		res, err = ex.ExecContext(ctx, args)
		return err
	})
	return res, err
}

func (s *gatedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, fmt.Errorf("sqlite: statement %T lacks QueryContext", s.Stmt)
	}
	return s.conn.query(ctx, s.query, func() (driver.Rows, error) { return q.QueryContext(ctx, args) })
}
