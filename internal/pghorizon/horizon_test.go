package pghorizon_test

import (
	"context"
	"strings"
	"testing"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/internal/pghorizon"
	"github.com/orderflow/orderflow/internal/testenv"
)

// below reports whether every row of rows is below the horizon expr.
func below(t *testing.T, pool *pgxpool.Pool, expr string) bool {
	t.Helper()
	var ok bool
	if err := pool.QueryRow(t.Context(), `SELECT bool_and(transaction_id < `+expr+`) FROM rows`).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// horizon is the value of expr now.
func horizon(t *testing.T, pool *pgxpool.Pool, expr string) uint64 {
	t.Helper()
	var h int64
	if err := pool.QueryRow(t.Context(), `SELECT (`+expr+`)::text::bigint`).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return uint64(h)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// The server is shared: another test's transaction in this database may
	// hold the horizon for a moment.
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func committedRow(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(t.Context(), `CREATE TABLE IF NOT EXISTS rows (n int, transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id())`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(t.Context(), `INSERT INTO rows (n) VALUES (1)`); err != nil {
		t.Fatal(err)
	}
}

// A transaction left open in another database of the server holds
// watermill-sql's server-wide horizon, so a row committed after it began is
// not read until it ends; it does not hold this database's horizon.
func TestAnotherDatabasesTransactionDoesNotHoldTheHorizon(t *testing.T) {
	pool, _ := testenv.PostgresPool(t)
	other := testenv.HoldOtherDatabaseTx(t)
	committedRow(t, pool)

	if below(t, pool, pghorizon.ServerWide) || horizon(t, pool, pghorizon.ServerWide) > other.XID {
		t.Fatal("the server-wide horizon passed the other database's running transaction; the test proves nothing")
	}
	// Another test's transaction in this database may hold the horizon for
	// a while (the server is shared); the other database's must not.
	eventually(t, "this database's horizon past the other database's running transaction", func() bool {
		return horizon(t, pool, pghorizon.Expr) > other.XID
	})
	if !other.Running(t.Context()) {
		t.Fatal("the other database's transaction ended before the check")
	}
}

// A transaction of this database that may still write holds the horizon
// until it ends, like the server-wide one.
func TestThisDatabasesTransactionHoldsTheHorizon(t *testing.T) {
	pool, u := testenv.PostgresPool(t)
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(t.Context())) }()
	var xid int64
	if err := tx.QueryRow(t.Context(), `SELECT pg_current_xact_id()::text::bigint`).Scan(&xid); err != nil {
		t.Fatal(err)
	}
	committedRow(t, pool)
	for range 5 {
		if below(t, pool, pghorizon.Expr) || horizon(t, pool, pghorizon.Expr) > uint64(xid) {
			t.Fatal("the horizon passed a running transaction of this database")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Once it ended it holds nothing (an older one of another test may).
	if h := horizon(t, pool, pghorizon.Expr); h == uint64(xid) {
		t.Fatalf("the horizon is still the ended transaction %d", xid)
	}
}

// The schema adapter's select reads below this database's horizon, not the
// server's.
func TestSchemaSelectsBelowThisDatabasesHorizon(t *testing.T) {
	q, err := pghorizon.Schema{}.SelectQuery(wsql.SelectQueryParams{
		Topic: "t", ConsumerGroup: "g", OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(q.Query, pghorizon.ServerWide) || !strings.Contains(q.Query, pghorizon.Expr) {
		t.Fatalf("select does not use this database's horizon:\n%s", q.Query)
	}
}

// A transaction on a ReaderPool connection (a subscriber's batch, the
// forwarder's) holds no horizon, even while it stays open with an id.
func TestReaderTransactionsDoNotHoldTheHorizon(t *testing.T) {
	pool, _ := testenv.PostgresPool(t)
	readers, err := pghorizon.ReaderPool(t.Context(), pool, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer readers.Close()
	tx, err := readers.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(t.Context())) }()
	var xid int64
	var app string
	if err := tx.QueryRow(t.Context(), `SELECT pg_current_xact_id()::text::bigint, current_setting('application_name')`).Scan(&xid, &app); err != nil {
		t.Fatal(err)
	}
	if app != pghorizon.ReaderApp {
		t.Fatalf("application_name %q, want %q", app, pghorizon.ReaderApp)
	}
	committedRow(t, pool)
	if horizon(t, pool, pghorizon.ServerWide) > uint64(xid) {
		t.Fatal("the server-wide horizon passed the reader's running transaction; the test proves nothing")
	}
	eventually(t, "the horizon past the reader's running transaction", func() bool {
		return horizon(t, pool, pghorizon.Expr) > uint64(xid)
	})
}
