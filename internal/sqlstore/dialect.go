package sqlstore

import (
	"fmt"
	"time"

	"github.com/orderflow/orderflow/ports"
)

// Dialect is what differs between the databases for the stores here, as
// their migrations have it. The two values are the unexported
// postgresDialect and sqliteDialect; a DB carries one.
type Dialect struct {
	name string

	// time encodes a timestamp column: timestamptz on Postgres, fixed-width
	// UTC text on SQLite (see TextTime). timeMillis encodes a column SQLite
	// keeps as integer unix milliseconds (the payment sandbox's).
	time, timeMillis func(time.Time) any
	// json encodes a JSON document: jsonb on Postgres, TEXT on SQLite (a
	// BLOB would fail SQLite's json_valid checks).
	json func([]byte) any
	// forUpdate locks the rows a SELECT reads until the transaction ends;
	// skipLocked does too, and passes over the rows another transaction
	// holds (a queue's claim).
	forUpdate, skipLocked string

	// The clock of expiries (inbox, idempotency keys): now is an SQL
	// expression for the current time, after one for now plus the
	// duration encoded by expiry (one '?'). Postgres uses the server's
	// clock_timestamp() in microseconds; SQLite, embedded, the machine's
	// clock in unix milliseconds.
	now, after string
	expiry     func(time.Duration) any

	checkpoints checkpointSQL
	shadow      shadowSQL
	bulk        bulkSQL
	cursor      cursorCodec
}

// Name is "postgres" or "sqlite"; errors start with it.
func (d *Dialect) Name() string { return d.name }

// Time encodes t for a timestamp column (timestamptz, or SQLite text).
func (d *Dialect) Time(t time.Time) any { return d.time(t) }

// TimeMillis encodes t for a timestamp column that SQLite keeps as unix
// milliseconds (timestamptz on Postgres).
func (d *Dialect) TimeMillis(t time.Time) any { return d.timeMillis(t) }

// ForUpdate is " FOR UPDATE" on Postgres, to end a SELECT that locks its
// rows; "" on SQLite, whose transactions hold the write lock from BEGIN
// (adapters/sqlite.Open opens them IMMEDIATE).
func (d *Dialect) ForUpdate() string { return d.forUpdate }

func (d *Dialect) errorf(format string, args ...any) error {
	return fmt.Errorf(d.name+": "+format, args...)
}

var postgresDialect = &Dialect{
	name:       "postgres",
	time:       func(t time.Time) any { return t },
	timeMillis: func(t time.Time) any { return t },
	json:       func(b []byte) any { return b },
	forUpdate:  " FOR UPDATE",
	skipLocked: " FOR UPDATE SKIP LOCKED",
	now:        `clock_timestamp()`,
	after:      `(clock_timestamp() + ? * interval '1 microsecond')`,
	expiry:     func(d time.Duration) any { return d.Microseconds() },
	checkpoints: checkpointSQL{
		read: `SELECT transaction_id::text, position FROM projection_checkpoints WHERE projection = ?`,
		save: `
			INSERT INTO projection_checkpoints (projection, transaction_id, position)
			VALUES (?, ?::text::xid8, ?)
			ON CONFLICT (projection) DO UPDATE
			SET transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()
			WHERE (projection_checkpoints.transaction_id, projection_checkpoints.position)
			    < (excluded.transaction_id, excluded.position)`,
		saveArgs: func(projection string, pos ports.Position) ([]any, error) {
			return []any{projection, fmt.Sprint(pos.Commit), int64(pos.Prepare)}, nil
		},
		lag: `SELECT count(*), min(recorded_at) FROM events
			WHERE (transaction_id, position) > (?::text::xid8, ?::bigint)`,
		lagArgs: func(pos ports.Position) []any { return []any{fmt.Sprint(pos.Commit), int64(pos.Prepare)} },
	},
	shadow: shadowSQL{
		exists:  `SELECT to_regclass(?) IS NOT NULL`,
		create:  createShadowLike,
		indexes: indexShadowLike,
	},
	bulk:   bulkSQL{getMany: postgresGetMany, chunk: 10000, putMany: postgresPutMany},
	cursor: microsCursor{},
}

var sqliteDialect = &Dialect{
	name:       "sqlite",
	time:       func(t time.Time) any { return TextTime(t) },
	timeMillis: func(t time.Time) any { return t.UnixMilli() },
	json:       func(b []byte) any { return string(b) },
	forUpdate:  "",
	skipLocked: "",
	// SQLite's 'now' is fixed for the whole of one statement, like a value
	// bound once; ROUND and CAST keep the stored expiry an exact integer.
	now:    `CAST(ROUND(unixepoch('subsec') * 1000) AS INTEGER)`,
	after:  `(CAST(ROUND(unixepoch('subsec') * 1000) AS INTEGER) + ?)`,
	expiry: func(d time.Duration) any { return d.Milliseconds() },
	// SQLite positions are one sequence: a Position's Commit and Prepare
	// are both the event's position.
	checkpoints: checkpointSQL{
		read: `SELECT position, position FROM projection_checkpoints WHERE projection = ?`,
		save: `
			INSERT INTO projection_checkpoints (projection, position, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (projection) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
			WHERE projection_checkpoints.position < excluded.position`,
		saveArgs: func(projection string, pos ports.Position) ([]any, error) {
			if pos.Prepare > maxInt64 {
				return nil, fmt.Errorf("position %v out of range", pos)
			}
			return []any{projection, int64(pos.Prepare), TextTime(time.Now())}, nil
		},
		lag:     `SELECT count(*), min(recorded_at) FROM events WHERE position > ?`,
		lagArgs: func(pos ports.Position) []any { return []any{int64(pos.Prepare)} },
	},
	shadow: shadowSQL{
		exists:  `SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?`,
		create:  createShadowFromDDL,
		indexes: indexShadowFromDDL,
	},
	bulk:   bulkSQL{getMany: sqliteGetMany, chunk: sqliteChunk, putMany: sqlitePutMany},
	cursor: textCursor{},
}
