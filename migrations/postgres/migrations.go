// Package pgmigrations holds the PostgreSQL schema of the service as goose
// SQL migrations, embedded in the binary, and applies them.
//
// Migrations run in the connection's current schema (the first entry of its
// search_path), and so does goose's version table: a database can hold
// several independent copies of the service's schema, which is how tests
// isolate themselves from each other.
package pgmigrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/fnv"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed *.sql
var files embed.FS

// Up applies every pending migration to db's current schema and returns the
// file names of those it applied, oldest first (none when the schema is up
// to date); logging them is the caller's choice. Each migration runs in its
// own transaction; Up stops at the first that fails and returns its error,
// leaving the earlier ones applied.
//
// Concurrent calls for the same schema (several instances starting at once)
// are serialised by a PostgreSQL advisory lock keyed by the schema name, so
// each migration is applied once; calls for different schemas do not wait
// for each other.
//
// db must be opened with the pgx stdlib driver ("pgx", or
// stdlib.OpenDBFromPool), or any driver for PostgreSQL.
func Up(ctx context.Context, db *sql.DB) ([]string, error) {
	p, err := newProvider(ctx, db)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("apply postgres migrations: %w", err)
	}
	applied := make([]string, len(results))
	for i, r := range results {
		applied[i] = r.Source.Path
	}
	return applied, nil
}

// Status reports each known migration and whether it is applied to db's
// current schema.
func Status(ctx context.Context, db *sql.DB) ([]*goose.MigrationStatus, error) {
	p, err := newProvider(ctx, db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres migration status: %w", err)
	}
	return st, nil
}

// newProvider returns a goose provider for db's current schema. Goose's own
// logging is off: Up reports what it applied to its caller instead.
func newProvider(ctx context.Context, db *sql.DB) (*goose.Provider, error) {
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("read current schema: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(lockID(schema)),
		lock.WithLockTimeout(1, 300), // poll each second, for 5 minutes
	)
	if err != nil {
		return nil, fmt.Errorf("create migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, files,
		goose.WithDisableGlobalRegistry(true),
		goose.WithSessionLocker(locker),
		goose.WithSlog(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		return nil, fmt.Errorf("create migration provider: %w", err)
	}
	return p, nil
}

// lockID derives the advisory lock of a schema's migrations from its name.
func lockID(schema string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("orderflow migrations " + schema))
	return int64(h.Sum64())
}
