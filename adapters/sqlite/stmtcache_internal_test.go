package sqlite

import (
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// onConn runs fn on one connection of db and returns how many statements
// that connection keeps prepared.
func onConn(t *testing.T, db *sql.DB, fn func(conn *sql.Conn)) (cached int) {
	t.Helper()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fn(conn)
	if err := conn.Raw(func(dc any) error {
		cached = len(dc.(*gatedConn).stmts.m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return cached
}

// A statement with arguments is prepared once per connection and run again
// from the cache; the same SQL run while rows of it are still open (a
// query inside another's loop) runs uncached, and both read right; a
// cached statement survives a schema change; the cache is bounded.
func TestStatementCache(t *testing.T) {
	db := openGated(t, time.Minute)
	cached := onConn(t, db, func(conn *sql.Conn) {
		for i := 1; i <= 3; i++ {
			if _, err := conn.ExecContext(t.Context(), `INSERT INTO t (k) VALUES (?)`, i); err != nil {
				t.Fatal(err)
			}
		}
		// Rows of the cached query stay open while it runs again inside.
		rows, err := conn.QueryContext(t.Context(), `SELECT k FROM t WHERE k >= ? ORDER BY k`, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var outer, inner []int
		for rows.Next() {
			var k int
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			outer = append(outer, k)
			var n int
			if err := conn.QueryRowContext(t.Context(), `SELECT k FROM t WHERE k >= ? ORDER BY k`, k).Scan(&n); err != nil {
				t.Fatal(err)
			}
			inner = append(inner, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(outer) != "[1 2 3]" || fmt.Sprint(inner) != "[1 2 3]" {
			t.Fatalf("outer %v, inner %v; want [1 2 3] both", outer, inner)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		// A schema change: the cached INSERT is recompiled by SQLite.
		if _, err := conn.ExecContext(t.Context(), `ALTER TABLE t ADD COLUMN note TEXT NOT NULL DEFAULT 'x'`); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(t.Context(), `INSERT INTO t (k) VALUES (?)`, 4); err != nil {
			t.Fatal(err)
		}
		var note string
		if err := conn.QueryRowContext(t.Context(), `SELECT note FROM t WHERE k = ?`, 4).Scan(&note); err != nil || note != "x" {
			t.Fatalf("note %q, %v; want x", note, err)
		}
	})
	if cached != 3 { // the INSERT, the SELECT k and the SELECT note
		t.Fatalf("%d statements cached, want 3", cached)
	}
	cached = onConn(t, db, func(conn *sql.Conn) {
		for i := range 2 * stmtCacheSize {
			if err := conn.QueryRowContext(t.Context(), fmt.Sprintf(`SELECT k + %d FROM t WHERE k = ?`, i), 1).Scan(new(int)); err != nil {
				t.Fatal(err)
			}
		}
	})
	if cached > stmtCacheSize {
		t.Fatalf("%d statements cached, want at most %d", cached, stmtCacheSize)
	}
	var sum int
	if err := db.QueryRowContext(t.Context(), `SELECT sum(k) FROM t`).Scan(&sum); err != nil || sum != 10 {
		t.Fatalf("sum %d, %v; want 10 (0, 1, 2, 3 and 4)", sum, err)
	}
}
