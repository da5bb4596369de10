package sqlstore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/sqlstore"

	_ "modernc.org/sqlite"
)

func TestPostgresErrorClassifiesDataErrorsAsInvalid(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("save: %w", &pgconn.PgError{Code: code, Message: "m"}) }
	for _, tc := range []struct {
		name string
		err  error
		want apperr.Code
	}{
		{"NUL in text", pg("22021"), apperr.Invalid},
		{"out of range", pg("22003"), apperr.Invalid},
		{"unique violation", pg("23505"), apperr.Invalid},
		{"check violation", pg("23514"), apperr.Invalid},
		{"serialization failure", pg("40001"), apperr.Internal},
		{"connection lost", errors.New("conn closed"), apperr.Internal},
		{"classified already", apperr.Wrap(apperr.Conflict, pg("23505"), "dup"), apperr.Conflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sqlstore.PostgresError(tc.err)
			if c := apperr.CodeOf(got); c != tc.want {
				t.Fatalf("code %s, want %s (%v)", c, tc.want, got)
			}
			var pgErr *pgconn.PgError
			if errors.As(tc.err, &pgErr) && !errors.As(got, &pgErr) {
				t.Fatalf("%v lost its PgError", got)
			}
		})
	}
	if sqlstore.PostgresError(nil) != nil {
		t.Fatal("nil is not nil")
	}
}

// On SQLite a CHECK constraint violation through a store's executor is
// Invalid, the driver's error kept.
func TestSQLiteConstraintViolationIsInvalid(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := sqlstore.SQLite(db)
	if _, err := s.Exec(t.Context(), `CREATE TABLE t (n INTEGER NOT NULL CHECK (n >= 0))`); err != nil {
		t.Fatal(err)
	}
	_, err = s.Exec(t.Context(), `INSERT INTO t (n) VALUES (?)`, -1)
	if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "CHECK constraint failed") {
		t.Fatalf("insert breaking a CHECK: %v, want invalid", err)
	}
	if _, err := s.Exec(t.Context(), `INSERT INTO nowhere (n) VALUES (1)`); apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a missing table is not the data's fault: %v", err)
	}
}
