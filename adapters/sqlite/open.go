// Package sqlite holds the adapters of the embedded mode: the event store and
// the read models in one SQLite file, which package sqlitepubsub also uses as
// the message broker. The driver is modernc.org/sqlite (pure Go, no cgo).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
	sqlitemigrations "github.com/orderflow/orderflow/migrations/sqlite"
)

// Connection settings, applied by the driver to every pooled connection:
//
//   - journal_mode WAL: readers never block the writer nor the writer them,
//     so subscribers poll while handlers write.
//   - synchronous FULL: the WAL is synced at every commit. With NORMAL a
//     power loss may undo the last commits, and an order the API accepted
//     must not vanish; the cost is one fsync per transaction.
//   - busy_timeout 10s: a writer waits for the write lock instead of failing
//     at once with SQLITE_BUSY.
//   - _txlock=immediate: every transaction takes the write lock at BEGIN. A
//     deferred transaction that reads and then writes can fail with
//     SQLITE_BUSY_SNAPSHOT, which busy_timeout does not retry; taking the
//     lock first makes writers queue instead. It also serialises writers,
//     which the event store relies on for its positions.
//   - foreign_keys on: SQLite leaves them off by default.
const dsnParams = "_pragma=busy_timeout(10000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)" +
	"&_pragma=foreign_keys(1)" +
	"&_txlock=immediate"

// maxOpenConns bounds the pool, and so the connections that wait in
// SQLite's busy handler (which sleeps and retries) rather than in the pool.
// With a bound, code must not wait for a second connection while holding one
// (an open transaction or unclosed Rows) or a full pool deadlocks; the
// adapters and the subscriber here never do.
const maxOpenConns = 8

// Open opens (creating if needed, with its parent directory) the database
// file at path, and brings its schema up to date: the project migrations and
// the broker's tables. The caller closes the *sql.DB.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: resolve %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create directory of %q: %w", abs, err)
	}
	// A URI, so that a path with '?' or '#' in it is escaped, not parsed.
	dsn := (&url.URL{Scheme: "file", Path: abs, RawQuery: dsnParams}).String()
	// Writers take turns in Go before SQLite's lock (gate.go).
	db := sql.OpenDB(newGatedConnector(dsn))
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)

	if err := setUp(ctx, db); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: %q: %w", abs, err), db.Close())
	}
	return db, nil
}

func setUp(ctx context.Context, db *sql.DB) error {
	if err := db.PingContext(ctx); err != nil {
		return err
	}
	if err := sqlitemigrations.Up(ctx, db); err != nil {
		return err
	}
	return sqlitepubsub.InitializeSchema(ctx, db)
}
