package postgres

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/internal/sqlstore"
)

// The stores that are plain rows are written once, in internal/sqlstore,
// for PostgreSQL and SQLite. Each constructor here returns one on pool,
// which must be migrated by migrations/postgres, and panics on a nil pool.
type (
	PoisonStore        = sqlstore.PoisonStore        // the poison queue, table poison_messages
	Inbox              = sqlstore.Inbox              // consumers' dedup, table inbox, server clock
	IdempotencyStore   = sqlstore.IdempotencyStore   // HTTP idempotency keys, server clock
	SnapshotStore      = sqlstore.SnapshotStore      // aggregate snapshots
	CheckpointStore    = sqlstore.CheckpointStore    // projection checkpoints, by (transaction id, position)
	NotificationStore  = sqlstore.NotificationStore  // notifications
	CheckoutStore      = sqlstore.CheckoutStore      // the checkout saga's state
	OrderSummaryStore  = sqlstore.OrderSummaryStore  // the order_summary read model
	ShadowOrderSummary = sqlstore.ShadowOrderSummary // rebuilds order_summary with LIKE ... INCLUDING ALL
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
