package postgres

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderflow/orderflow/internal/sqlstore"
)

// Stores returns the stores that are plain rows (poison queue, inbox,
// idempotency keys, snapshots, projection checkpoints, notifications,
// checkouts, the order summary and its shadow rebuild), written once in
// internal/sqlstore for PostgreSQL and SQLite, on pool, which must be
// migrated by migrations/postgres. It panics on a nil pool. Expiries (inbox,
// idempotency keys) follow the server's clock.
func Stores(pool *pgxpool.Pool) sqlstore.Stores { return sqlstore.Open(sqlstore.Postgres(pool)) }
