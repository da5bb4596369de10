package sqlite

import (
	"errors"
	"strings"

	"github.com/orderflow/orderflow/internal/sqlstore"
	modernc "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Times are stored as internal/sqlstore stores them for SQLite: fixed-width
// UTC text at microsecond precision, so that text order is time order and
// every adapter returns the same instants. The event store truncates before
// it publishes, so that the outbox carries exactly what Load returns.
var (
	storedTime = sqlstore.StoredTime
	encodeTime = sqlstore.TextTime
	decodeTime = sqlstore.ParseTextTime
)

// isUniqueViolation reports whether err is a UNIQUE (or PRIMARY KEY)
// constraint failure whose message names all of columns, e.g.
// "events.stream_type, events.stream_id, events.version".
func isUniqueViolation(err error, columns string) bool {
	var se *modernc.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code()
	return (code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) &&
		strings.Contains(se.Error(), columns)
}
