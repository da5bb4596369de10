package sqlitemigrations_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	sqlitemigrations "github.com/orderflow/orderflow/migrations/sqlite"

	_ "modernc.org/sqlite"
)

func TestUpIsIdempotent(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "orderflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 2 {
		if err := sqlitemigrations.Up(t.Context(), db); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"events", "events_no_update", "events_no_delete", "order_summary", "checkouts",
		"payment_sandbox_authorizations", "payment_sandbox_operations"} {
		var n int
		if err := db.QueryRowContext(t.Context(),
			`SELECT count(*) FROM sqlite_schema WHERE name = ?`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("schema object %s missing", name)
		}
	}
}
