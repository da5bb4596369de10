package sqlstore

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderflow/orderflow/app/apperr"
	modernc "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// PostgresError classifies err, returned by PostgreSQL: a data exception
// (SQLSTATE class 22: a NUL or an invalid byte sequence in text, a value
// out of range, a malformed literal) or an integrity constraint violation
// (class 23) is apperr.Invalid, since the same statement with the same data
// fails the same way however often it is retried; the router parks such a
// message in the poison queue instead of retrying it forever. The cause is
// wrapped, so its SQLSTATE and message stay in the reason and errors.As
// still finds the *pgconn.PgError. Any other error (nil included), and one
// that already carries an apperr code, is returned as is.
//
// A caller that gives some violation a meaning of its own (the event store's
// (stream, version) clash is a concurrency conflict) checks for it before
// calling this.
func PostgresError(err error) error {
	var pgErr *pgconn.PgError
	if err == nil || !errors.As(err, &pgErr) {
		return err
	}
	if _, coded := apperr.As(err); coded {
		return err // classified already, by a caller that knows better
	}
	if strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23") {
		return apperr.Wrap(apperr.Invalid, err, "the database refused the data (SQLSTATE %s)", pgErr.Code)
	}
	return err
}

// pgxRows and pgxRow classify the errors of a read (see PostgresError);
// pgx reports a query's errors from Err and Scan, not from Query.
type pgxRows struct{ pgx.Rows }

func (r pgxRows) Err() error { return PostgresError(r.Rows.Err()) }

func (r pgxRows) Scan(dest ...any) error { return PostgresError(r.Rows.Scan(dest...)) }

type pgxRow struct{ pgx.Row }

func (r pgxRow) Scan(dest ...any) error { return PostgresError(r.Row.Scan(dest...)) }

// SQLiteError is PostgresError for SQLite: a constraint violation
// (SQLITE_CONSTRAINT, with any extended code), a datatype mismatch or a
// value too big is apperr.Invalid, the cause wrapped; anything else (a busy
// database, I/O) is returned as is, and so is an error already coded.
func SQLiteError(err error) error {
	var se *modernc.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	if _, coded := apperr.As(err); coded {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG:
		return apperr.Wrap(apperr.Invalid, err, "the database refused the data (%s)", modernc.ErrorCodeString[se.Code()])
	}
	return err
}
