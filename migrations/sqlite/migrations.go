// Package sqlitemigrations holds the schema of the embedded (SQLite) mode as
// goose SQL migrations, compiled into the binary. The broker's tables are not
// here: package sqlitepubsub owns and creates them.
package sqlitemigrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/pressly/goose/v3"
)

//go:embed *.sql
var fsys embed.FS

// Up applies every migration not applied yet, each in its own transaction,
// and records them in goose's version table. It is a no-op on an up-to-date
// database. Run it from one process at a time: SQLite has no advisory lock
// for goose to serialise concurrent runs.
func Up(ctx context.Context, db *sql.DB) error {
	provider, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		return fmt.Errorf("sqlite migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("sqlite migrations: %w", err)
	}
	return nil
}
