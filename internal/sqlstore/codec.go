package sqlstore

import (
	"database/sql"
	"fmt"
	"time"
)

// textTimeLayout stores instants on SQLite as UTC text of fixed width, so
// that text order is time order (keyset pagination depends on it) and the
// file stays readable with the sqlite3 shell. Precision is the microsecond,
// as in PostgreSQL's timestamptz, so that every adapter returns the same
// instants. Years outside 0000-9999 are not representable; no order lives
// there.
const textTimeLayout = "2006-01-02T15:04:05.000000Z"

// StoredTime is t as it reads back from either database: UTC, truncated to
// the microsecond.
func StoredTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// TextTime is t as SQLite stores a timestamp.
func TextTime(t time.Time) string { return StoredTime(t).Format(textTimeLayout) }

// ParseTextTime reads a timestamp TextTime wrote.
func ParseTextTime(s string) (time.Time, error) {
	t, err := time.Parse(textTimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

// ScanTime returns a Scan destination that reads a timestamp into *dst, in
// UTC, whichever way it is stored: timestamptz, SQLite text or SQLite unix
// milliseconds. NULL leaves the zero time.
func ScanTime(dst *time.Time) sql.Scanner { return timeDest{dst} }

type timeDest struct{ t *time.Time }

func (d timeDest) Scan(src any) error {
	var err error
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case time.Time:
		*d.t = v.UTC()
	case string:
		*d.t, err = ParseTextTime(v)
	case []byte:
		*d.t, err = ParseTextTime(string(v))
	case int64:
		*d.t = time.UnixMilli(v).UTC()
	default:
		err = fmt.Errorf("stored time: unexpected %T", src)
	}
	return err
}

const maxInt64 = 1<<63 - 1
