package sqlite

import (
	"database/sql"

	"github.com/orderflow/orderflow/internal/sqlstore"
)

// Stores returns the stores that are plain rows (poison queue, inbox,
// idempotency keys, snapshots, projection checkpoints, notifications,
// checkouts, the order summary and its shadow rebuild), written once in
// internal/sqlstore for SQLite and PostgreSQL, on db, a database from Open.
// It panics on a nil db. Expiries (inbox, idempotency keys) are unix
// milliseconds of this machine's clock.
func Stores(db *sql.DB) sqlstore.Stores { return sqlstore.Open(sqlstore.SQLite(db)) }
