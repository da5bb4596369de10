// Package testenv gives tests isolated resources on the real servers of the
// machine. Tests of several packages run at once under `go test ./...`, so
// every call hands out something no other test sees.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	pgmigrations "github.com/orderflow/orderflow/migrations/postgres"
)

// EnvPostgresURL names the variable holding the URL of the test database.
const EnvPostgresURL = "ORDERFLOW_TEST_POSTGRES_URL"

// DefaultPostgresURL is used when EnvPostgresURL is unset.
const DefaultPostgresURL = "postgres://root@127.0.0.1:5432/test?sslmode=disable"

// postgresTimeout bounds each setup and cleanup step.
const postgresTimeout = 30 * time.Second

// PostgresBaseURL returns the test database URL from EnvPostgresURL or the
// default. It must be a URL (postgres://...), not a key=value string.
func PostgresBaseURL() string {
	if u := os.Getenv(EnvPostgresURL); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// PostgresURL creates a new schema in the test database, applies the
// project's migrations to it, and returns a URL whose connections use it:
// the URL carries search_path as a run-time parameter, which pgx sends at
// connection start, so pgxpool and database/sql through the pgx stdlib
// driver both work in the schema without qualifying names. The schema and
// everything in it is dropped when the test ends; close connections made
// from the URL before that (cleanups run last-registered first, so register
// yours after calling PostgresURL).
//
// An unreachable server fails the test: these tests are never skipped.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := PostgresBaseURL()
	schema := schemaName(t)

	ctx, cancel := context.WithTimeout(context.Background(), postgresTimeout)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("testenv: PostgreSQL is unreachable at %s (set %s to another server): %v",
			redact(base), EnvPostgresURL, err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("testenv: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() { dropSchema(t, base, schema) })

	schemaURL, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatalf("testenv: %s: %v", EnvPostgresURL, err)
	}
	if err := migrate(ctx, schemaURL, schema); err != nil {
		t.Fatalf("testenv: schema %s: %v", schema, err)
	}
	return schemaURL
}

// PostgresPool is PostgresURL with a pool on the new schema, closed when the
// test ends (before the schema is dropped). It returns the URL too, for code
// that opens its own connections.
func PostgresPool(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	u := PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), postgresTimeout)
	defer cancel()
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatalf("testenv: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("testenv: ping pool: %v", err)
	}
	return pool, u
}

// migrate applies the migrations through database/sql, as the service does,
// after checking that the URL's search_path reached the connection.
func migrate(ctx context.Context, schemaURL, schema string) error {
	db, err := sql.Open("pgx", schemaURL)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer db.Close()
	var current string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&current); err != nil {
		return fmt.Errorf("read current schema: %w", err)
	}
	if current != schema {
		return fmt.Errorf("connection is in schema %q, not %q: search_path in the URL was not applied", current, schema)
	}
	if _, err := pgmigrations.Up(ctx, db); err != nil {
		return err
	}
	return nil
}

// dropSchema drops a test's schema. A connection still holding locks in it
// (a leaked transaction or subscriber) makes the drop time out, and the test
// fail, rather than hang.
func dropSchema(t testing.TB, base, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), postgresTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Errorf("testenv: drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SET lock_timeout = '10s'"); err != nil {
		t.Errorf("testenv: drop schema %s: %v", schema, err)
		return
	}
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Errorf("testenv: drop schema %s (is a connection still using it?): %v", schema, err)
	}
}

// withSearchPath returns base with search_path set to schema alone.
func withSearchPath(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("want a postgres:// URL, got %q", redact(base))
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// schemaName returns a new schema name: "t_", a readable piece of the test
// name, and random hex, lower case and within PostgreSQL's 63 bytes.
func schemaName(t testing.TB) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 40 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	b.WriteByte('_')
	b.WriteString(strings.ToLower(rand.Text()[:13])) // 65 random bits
	return b.String()
}

// redact hides the password of a URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
