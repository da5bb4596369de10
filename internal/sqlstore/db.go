// Package sqlstore holds the stores that are plain rows (poison queue,
// inbox, idempotency keys, snapshots, projection checkpoints,
// notifications, checkouts, the order summary and its shadow rebuild),
// written once and run on PostgreSQL and on SQLite.
//
// A DB pairs an executor with a Dialect. The executor is the pgx pool
// itself (Postgres) or a *sql.DB (SQLite), behind one small interface, so
// that the Postgres hot paths keep pgx's native protocol and types and one
// statement stays one round trip. Queries are written with '?'
// placeholders; the Postgres executor numbers them ($1, $2, ...), so no
// query may contain a literal question mark. The Dialect says everything
// else that differs, as the migrations of each database have it: how a time
// and a JSON document are stored, row locking (FOR UPDATE, a no-op on
// SQLite, whose transactions take the write lock at BEGIN), the clock that
// inbox and idempotency expiries use, the events' order key that
// checkpoints store, and how a shadow table is created.
//
// The event stores and the outbox readers are not here: they genuinely
// differ per database and stay in adapters/postgres and adapters/sqlite,
// whose Stores functions open this package's stores on their database
// (Open).
//
// Why internal/ and not adapters/: adapters do not import each other
// (internal/archtest), and this is not an adapter of its own but the shared
// base of two of them. It sits at the adapters' level: it may import ports
// and app/apperr, and never an adapter.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/ports"
)

// The stores and the ports they implement.
var (
	_ ports.CheckoutStore      = (*CheckoutStore)(nil)
	_ ports.CheckpointStore    = (*CheckpointStore)(nil)
	_ ports.IdempotencyStore   = (*IdempotencyStore)(nil)
	_ ports.DedupStore         = (*Inbox)(nil)
	_ ports.NotificationStore  = (*NotificationStore)(nil)
	_ ports.OrderSummaryStore  = (*OrderSummaryStore)(nil)
	_ ports.PoisonStore        = (*PoisonStore)(nil)
	_ ports.ShadowOrderSummary = (*ShadowOrderSummary)(nil)
	_ ports.SnapshotStore      = (*SnapshotStore)(nil)
)

// DB is a database and its dialect; inside InTx, a transaction.
//
// A DB joins the transaction a Transactor of the same database opened
// (Transactor.InTx): every statement run with a context that carries it runs
// in it, so that stores written separately commit together.
type DB struct {
	conn    conn
	begin   func(ctx context.Context) (tx, error) // nil inside a transaction
	owner   any                                   // the *pgxpool.Pool or *sql.DB: which transactions it joins
	Dialect *Dialect
}

// Row is one result row (ErrNoRows is errors.Is sql.ErrNoRows on both).
type Row interface{ Scan(dest ...any) error }

// Rows is a result set; Close is safe to call twice.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type conn interface {
	exec(ctx context.Context, query string, args ...any) (int64, error)
	query(ctx context.Context, query string, args ...any) (Rows, error)
	queryRow(ctx context.Context, query string, args ...any) Row
}

// tx is an open transaction; rollback after the end is a no-op.
type tx interface {
	conn
	commit(ctx context.Context) error
	rollback(ctx context.Context) error
}

// Postgres returns pool, a database migrated by migrations/postgres, as a
// DB. It panics on a nil pool.
func Postgres(pool *pgxpool.Pool) DB {
	if pool == nil {
		panic("sqlstore.Postgres: nil pool")
	}
	begin := func(ctx context.Context) (tx, error) {
		t, err := pool.Begin(ctx)
		return pgxTx{pgxConn{t}, t}, err
	}
	return DB{conn: pgxConn{pool}, begin: begin, owner: pool, Dialect: postgresDialect}
}

// SQLite returns db, opened by adapters/sqlite.Open, as a DB. It panics on
// a nil db.
func SQLite(db *sql.DB) DB {
	if db == nil {
		panic("sqlstore.SQLite: nil database")
	}
	begin := func(ctx context.Context) (tx, error) {
		t, err := db.BeginTx(ctx, nil)
		return sqlTx{sqlConn{t}, t}, err
	}
	return DB{conn: sqlConn{db}, begin: begin, owner: db, Dialect: sqliteDialect}
}

// Exec runs a statement and returns the number of rows it affected.
func (db DB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return db.in(ctx).conn.exec(ctx, query, args...)
}

// Query runs a query; the caller closes the Rows.
func (db DB) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	return db.in(ctx).conn.query(ctx, query, args...)
}

// QueryRow runs a query that returns at most one row.
func (db DB) QueryRow(ctx context.Context, query string, args ...any) Row {
	return db.in(ctx).conn.queryRow(ctx, query, args...)
}

// InTx runs fn in a transaction, committed if fn returns nil and rolled
// back otherwise. Inside a transaction (db's own, or one of a Transactor
// of the same database that ctx carries), fn runs in it, and its outcome is
// that transaction's.
func (db DB) InTx(ctx context.Context, fn func(tx DB) error) error {
	db = db.in(ctx)
	if db.begin == nil {
		return fn(db)
	}
	t, err := db.begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(DB{conn: t, owner: db.owner, Dialect: db.Dialect}); err != nil {
		// Roll back even when ctx has ended, or a Postgres connection goes
		// back to the pool only once the server notices.
		if rerr := t.rollback(context.WithoutCancel(ctx)); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return err
	}
	return t.commit(ctx)
}

// pgxConn runs queries on a pool or a transaction of pgx.
type pgxConn struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
		CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	}
}

// copyFrom (Postgres only) loads the rows of src into table with COPY, in
// db's transaction if it is one.
func (db DB) copyFrom(ctx context.Context, table string, columns []string, src pgx.CopyFromSource) (int64, error) {
	c, ok := db.in(ctx).conn.(interface {
		copyFrom(ctx context.Context, table string, columns []string, src pgx.CopyFromSource) (int64, error)
	})
	if !ok {
		return 0, errors.New("COPY needs a Postgres connection")
	}
	return c.copyFrom(ctx, table, columns, src)
}

func (c pgxConn) copyFrom(ctx context.Context, table string, columns []string, src pgx.CopyFromSource) (int64, error) {
	n, err := c.q.CopyFrom(ctx, pgx.Identifier{table}, columns, src)
	return n, PostgresError(err)
}

func (c pgxConn) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, numbered(query), args...)
	return tag.RowsAffected(), PostgresError(err)
}

func (c pgxConn) query(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := c.q.Query(ctx, numbered(query), args...)
	if err != nil {
		return nil, PostgresError(err)
	}
	return pgxRows{rows}, nil
}

func (c pgxConn) queryRow(ctx context.Context, query string, args ...any) Row {
	return pgxRow{c.q.QueryRow(ctx, numbered(query), args...)}
}

type pgxTx struct {
	pgxConn
	tx pgx.Tx
}

func (t pgxTx) commit(ctx context.Context) error { return PostgresError(t.tx.Commit(ctx)) }

func (t pgxTx) rollback(ctx context.Context) error {
	if err := t.tx.Rollback(ctx); !errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return nil
}

// numbered replaces each '?' of query with $1, $2, ...
func numbered(query string) string {
	n := strings.Count(query, "?")
	if n == 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 2*n)
	i := 0
	for {
		j := strings.IndexByte(query, '?')
		if j < 0 {
			b.WriteString(query)
			return b.String()
		}
		i++
		b.WriteString(query[:j])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(i))
		query = query[j+1:]
	}
}

// sqlConn runs queries on a *sql.DB or a *sql.Tx.
type sqlConn struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
}

func (c sqlConn) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, SQLiteError(err)
	}
	return res.RowsAffected()
}

func (c sqlConn) query(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := c.q.QueryContext(ctx, query, args...) //nolint:rowserrcheck // returned as sqlRows: the caller closes it and checks Rows.Err
	if err != nil {
		return nil, SQLiteError(err)
	}
	return sqlRows{rows}, nil
}

func (c sqlConn) queryRow(ctx context.Context, query string, args ...any) Row {
	return sqlRow{c.q.QueryRowContext(ctx, query, args...)}
}

type sqlTx struct {
	sqlConn
	tx *sql.Tx
}

func (t sqlTx) commit(context.Context) error { return SQLiteError(t.tx.Commit()) }

func (t sqlTx) rollback(context.Context) error {
	if err := t.tx.Rollback(); !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

// sqlRows drops the error of Close: a read's errors surface in Err. Its
// errors, and sqlRow's, are classified by SQLiteError.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

func (r sqlRows) Err() error { return SQLiteError(r.Rows.Err()) }

func (r sqlRows) Scan(dest ...any) error { return SQLiteError(r.Rows.Scan(dest...)) }

type sqlRow struct{ *sql.Row }

func (r sqlRow) Scan(dest ...any) error { return SQLiteError(r.Row.Scan(dest...)) }
