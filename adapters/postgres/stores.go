package postgres

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderflow/orderflow/internal/sqlstore"
)

// The stores that are plain rows (poison queue, inbox, idempotency keys,
// snapshots, projection checkpoints, notifications, checkouts, the order
// summary and its shadow rebuild) are written once, in internal/sqlstore,
// for PostgreSQL and SQLite. Each constructor here returns one on pool,
// which must be migrated by migrations/postgres, and panics on a nil pool.
// Expiries (inbox, idempotency keys) follow the server's clock.
type (
	PoisonStore        = sqlstore.PoisonStore
	Inbox              = sqlstore.Inbox
	IdempotencyStore   = sqlstore.IdempotencyStore
	SnapshotStore      = sqlstore.SnapshotStore
	CheckpointStore    = sqlstore.CheckpointStore
	NotificationStore  = sqlstore.NotificationStore
	CheckoutStore      = sqlstore.CheckoutStore
	OrderSummaryStore  = sqlstore.OrderSummaryStore
	ShadowOrderSummary = sqlstore.ShadowOrderSummary
)

func NewPoisonStore(pool *pgxpool.Pool) *PoisonStore {
	return sqlstore.NewPoisonStore(sqlstore.Postgres(pool))
}

func NewInbox(pool *pgxpool.Pool) *Inbox { return sqlstore.NewInbox(sqlstore.Postgres(pool)) }

func NewIdempotencyStore(pool *pgxpool.Pool) *IdempotencyStore {
	return sqlstore.NewIdempotencyStore(sqlstore.Postgres(pool))
}

func NewSnapshotStore(pool *pgxpool.Pool) *SnapshotStore {
	return sqlstore.NewSnapshotStore(sqlstore.Postgres(pool))
}

func NewCheckpointStore(pool *pgxpool.Pool) *CheckpointStore {
	return sqlstore.NewCheckpointStore(sqlstore.Postgres(pool))
}

func NewNotificationStore(pool *pgxpool.Pool) *NotificationStore {
	return sqlstore.NewNotificationStore(sqlstore.Postgres(pool))
}

func NewCheckoutStore(pool *pgxpool.Pool) *CheckoutStore {
	return sqlstore.NewCheckoutStore(sqlstore.Postgres(pool))
}

func NewOrderSummaryStore(pool *pgxpool.Pool) *OrderSummaryStore {
	return sqlstore.NewOrderSummaryStore(sqlstore.Postgres(pool))
}

func NewShadowOrderSummary(pool *pgxpool.Pool) *ShadowOrderSummary {
	return sqlstore.NewShadowOrderSummary(sqlstore.Postgres(pool))
}
