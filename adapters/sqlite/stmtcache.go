package sqlite

import (
	"context"
	"database/sql/driver"
)

// The statement cache: each connection keeps the statements it ran with
// arguments prepared, as pgx does for PostgreSQL, instead of modernc
// preparing (parsing and planning) the SQL again at every call. In a CPU
// profile of the embedded pipeline, sqlite3_prepare_v2 was a quarter of the
// checkout's time; and on the embedded store that time is spent holding
// the write lock.
//
// A prepared statement runs one query at a time: while rows of it are
// open, the same SQL on the same connection (a query inside the loop of
// another) is prepared and run uncached. SQLite prepares statements with
// prepare_v2, which recompiles one whose schema changed.

// stmtCacheSize bounds the statements one connection keeps.
const stmtCacheSize = 128

type cachedStmt struct {
	st   driver.Stmt
	busy bool // rows of it are open
}

type stmtCache struct {
	m map[string]*cachedStmt
}

// stmt returns the connection's prepared statement for query, preparing
// it if needed, or nil when query has no arguments, or its statement is
// busy or cannot be prepared: the caller then runs query uncached (which
// reports a preparation error itself).
func (c *gatedConn) stmt(ctx context.Context, query string, args []driver.NamedValue) *cachedStmt {
	if len(args) == 0 {
		return nil
	}
	if cs, ok := c.stmts.m[query]; ok {
		if cs.busy {
			return nil
		}
		return cs
	}
	st, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if len(c.stmts.m) >= stmtCacheSize {
		for q, old := range c.stmts.m {
			if !old.busy {
				_ = old.st.Close()
				delete(c.stmts.m, q)
				break
			}
		}
	}
	cs := &cachedStmt{st: st}
	c.stmts.m[query] = cs
	return cs
}

// exec runs query with args, prepared once per connection.
func (c *gatedConn) exec(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if cs := c.stmt(ctx, query, args); cs != nil {
		return cs.st.(driver.StmtExecContext).ExecContext(ctx, args)
	}
	return c.inner.ExecContext(ctx, query, args)
}

// queryRows runs query with args, prepared once per connection; the
// statement is busy until its rows are closed.
func (c *gatedConn) queryRows(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs := c.stmt(ctx, query, args)
	if cs == nil {
		return c.inner.QueryContext(ctx, query, args)
	}
	rows, err := cs.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, cs: cs}, nil
}

// cachedRows frees their statement when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.cs.busy = false
	return err
}

// closeStmts finalizes the connection's statements.
func (c *gatedConn) closeStmts() {
	for q, cs := range c.stmts.m {
		_ = cs.st.Close()
		delete(c.stmts.m, q)
	}
}
