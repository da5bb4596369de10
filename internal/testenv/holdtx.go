package testenv

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
)

// OtherDatabaseTx is a write transaction held open in another database of
// the test server, as another application's batch job or an idle session
// in pgAdmin holds one: it has a transaction id (it inserted a row), so
// every snapshot on the server lists it as running until End.
type OtherDatabaseTx struct {
	conn *pgx.Conn
	tx   pgx.Tx
	// XID is its transaction id.
	XID uint64
}

// HoldOtherDatabaseTx opens an OtherDatabaseTx in the database "postgres"
// of the test server (the test database's own server), ended when the test
// ends if not before.
func HoldOtherDatabaseTx(t testing.TB) *OtherDatabaseTx {
	t.Helper()
	u, err := url.Parse(PostgresBaseURL())
	if err != nil {
		t.Fatalf("testenv: %s: %v", EnvPostgresURL, err)
	}
	if u.Path == "/postgres" {
		t.Fatalf("testenv: the test database must not be \"postgres\": it is the other database here")
	}
	u.Path = "/postgres"
	ctx, cancel := context.WithTimeout(context.Background(), postgresTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("testenv: connect to the other database: %v", err)
	}
	h := &OtherDatabaseTx{conn: conn}
	t.Cleanup(h.End)
	if h.tx, err = conn.Begin(ctx); err != nil {
		t.Fatalf("testenv: begin in the other database: %v", err)
	}
	if _, err := h.tx.Exec(ctx, `CREATE TEMP TABLE held (n int) ON COMMIT DROP`); err != nil {
		t.Fatalf("testenv: other database: %v", err)
	}
	if _, err := h.tx.Exec(ctx, `INSERT INTO held VALUES (1)`); err != nil {
		t.Fatalf("testenv: other database: %v", err)
	}
	if err := h.tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&h.XID); err != nil {
		t.Fatalf("testenv: other database: %v", err)
	}
	return h
}

// Running reports whether the transaction is still open on the server.
func (h *OtherDatabaseTx) Running(ctx context.Context) bool {
	var status *string
	err := h.conn.QueryRow(ctx, `SELECT pg_xact_status($1::bigint::text::xid8)`, int64(h.XID)).Scan(&status)
	return err == nil && status != nil && *status == "in progress"
}

// End rolls the transaction back and closes its connection.
func (h *OtherDatabaseTx) End() {
	if h.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), postgresTimeout)
	defer cancel()
	if h.tx != nil {
		_ = h.tx.Rollback(ctx)
	}
	_ = h.conn.Close(ctx)
	h.conn = nil
}
