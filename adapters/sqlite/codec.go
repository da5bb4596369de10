package sqlite

import (
	"errors"
	"fmt"
	"strings"
	"time"

	modernc "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// timeLayout stores instants as UTC text of fixed width, so that text order
// is time order (keyset pagination depends on it) and the file stays
// readable with the sqlite3 shell. Precision is the microsecond, as in
// PostgreSQL's timestamptz, so that every adapter returns the same instants;
// the event store truncates before it publishes, so that the outbox carries
// exactly what Load returns. Years outside 0000-9999 are not representable;
// no order lives there.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// storedTime is t as it reads back from the database.
func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func encodeTime(t time.Time) string { return storedTime(t).Format(timeLayout) }

func decodeTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

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
