package testenv_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/orderflow/orderflow/internal/testenv"
	pgmigrations "github.com/orderflow/orderflow/migrations/postgres"
)

// The URL's search_path must reach both kinds of connection the project
// makes, and the migrations must be in that schema.
func TestPostgresURLSetsSchemaForPoolAndStdlib(t *testing.T) {
	pool, u := testenv.PostgresPool(t)

	var poolSchema string
	var poolHasEvents bool
	if err := pool.QueryRow(t.Context(),
		`SELECT current_schema(), to_regclass('events') IS NOT NULL`).Scan(&poolSchema, &poolHasEvents); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var dbSchema string
	var dbHasSummary bool
	if err := db.QueryRowContext(t.Context(),
		`SELECT current_schema(), to_regclass('order_summary') IS NOT NULL`).Scan(&dbSchema, &dbHasSummary); err != nil {
		t.Fatal(err)
	}

	if poolSchema == "public" || poolSchema != dbSchema {
		t.Fatalf("pool in schema %q, database/sql in %q: want the same, fresh schema", poolSchema, dbSchema)
	}
	if !poolHasEvents || !dbHasSummary {
		t.Fatalf("migrations not applied in %s: events %v, order_summary %v", poolSchema, poolHasEvents, dbHasSummary)
	}

	// Up is idempotent, and Status sees every migration applied.
	if applied, err := pgmigrations.Up(t.Context(), db); err != nil || len(applied) != 0 {
		t.Fatalf("second Up applied %v, %v; want nothing", applied, err)
	}
	st, err := pgmigrations.Status(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.AppliedAt.IsZero() {
			t.Errorf("migration %s not applied", s.Source.Path)
		}
	}
}

func TestPostgresURLIsolatesTestsAndDropsSchema(t *testing.T) {
	var first string
	t.Run("a", func(t *testing.T) {
		pool, _ := testenv.PostgresPool(t)
		if _, err := pool.Exec(t.Context(), `CREATE TABLE only_in_a (x int)`); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(t.Context(), `SELECT current_schema()`).Scan(&first); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("b", func(t *testing.T) {
		pool, _ := testenv.PostgresPool(t)
		var visible bool
		if err := pool.QueryRow(t.Context(), `SELECT to_regclass('only_in_a') IS NOT NULL`).Scan(&visible); err != nil {
			t.Fatal(err)
		}
		if visible {
			t.Fatal("a table made in another test's schema is visible")
		}
	})

	conn, err := pgx.Connect(context.Background(), testenv.PostgresBaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(t.Context(),
		`SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, first).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if first == "" || exists {
		t.Fatalf("schema %q of the finished subtest still exists: %v", first, exists)
	}
}
