package sqlstore

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func TestNumbered(t *testing.T) {
	for query, want := range map[string]string{
		`SELECT 1`:                       `SELECT 1`,
		`a = ? AND b IN (?, ?)`:          `a = $1 AND b IN ($2, $3)`,
		`VALUES (?, ?::text::xid8, ?)`:   `VALUES ($1, $2::text::xid8, $3)`,
		`? ? ? ? ? ? ? ? ? ? ? ?`:        `$1 $2 $3 $4 $5 $6 $7 $8 $9 $10 $11 $12`,
		`x < (clock_timestamp() + ? *)`:  `x < (clock_timestamp() + $1 *)`,
		`trailing ?`:                     `trailing $1`,
		`?leading`:                       `$1leading`,
		`no placeholders, 'text' $1 ...`: `no placeholders, 'text' $1 ...`,
	} {
		if got := numbered(query); got != want {
			t.Errorf("numbered(%q) = %q, want %q", query, got, want)
		}
	}
}

// The SQLite expiry clock stores integers of unix milliseconds (the
// columns' affinity would keep a REAL that is not a whole number as REAL).
func TestSQLiteExpiryClockIsUnixMillis(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "clock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	before := time.Now().UnixMilli()
	var typ string
	var now, later int64
	err = db.QueryRowContext(t.Context(), `SELECT typeof(`+sqliteDialect.now+`), `+sqliteDialect.now+`, `+sqliteDialect.after,
		sqliteDialect.expiry(time.Minute)).Scan(&typ, &now, &later)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().UnixMilli()
	if typ != "integer" || now < before-1 || now > after+1 || later != now+time.Minute.Milliseconds() {
		t.Errorf("now: %s %d, now + 1m: %d; want an integer in [%d, %d] and that + 60000", typ, now, later, before, after)
	}
}
