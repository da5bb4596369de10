package sqlite

import (
	"database/sql"

	"github.com/orderflow/orderflow/internal/sqlstore"
)

// The stores that are plain rows are written once, in internal/sqlstore,
// for SQLite and PostgreSQL. Each constructor here returns one on db, a
// database from Open, and panics on a nil db.
type (
	PoisonStore        = sqlstore.PoisonStore        // the poison queue, table poison_messages
	Inbox              = sqlstore.Inbox              // consumers' dedup, table inbox, unix ms
	IdempotencyStore   = sqlstore.IdempotencyStore   // HTTP idempotency keys, unix ms
	SnapshotStore      = sqlstore.SnapshotStore      // aggregate snapshots
	CheckpointStore    = sqlstore.CheckpointStore    // projection checkpoints, by event position
	NotificationStore  = sqlstore.NotificationStore  // notifications
	CheckoutStore      = sqlstore.CheckoutStore      // the checkout saga's state
	OrderSummaryStore  = sqlstore.OrderSummaryStore  // the order_summary read model
	ShadowOrderSummary = sqlstore.ShadowOrderSummary // rebuilds order_summary from its DDL
)

func NewPoisonStore(db *sql.DB) *PoisonStore { return sqlstore.NewPoisonStore(sqlstore.SQLite(db)) }

func NewInbox(db *sql.DB) *Inbox { return sqlstore.NewInbox(sqlstore.SQLite(db)) }

func NewIdempotencyStore(db *sql.DB) *IdempotencyStore {
	return sqlstore.NewIdempotencyStore(sqlstore.SQLite(db))
}

func NewSnapshotStore(db *sql.DB) *SnapshotStore {
	return sqlstore.NewSnapshotStore(sqlstore.SQLite(db))
}

func NewCheckpointStore(db *sql.DB) *CheckpointStore {
	return sqlstore.NewCheckpointStore(sqlstore.SQLite(db))
}

func NewNotificationStore(db *sql.DB) *NotificationStore {
	return sqlstore.NewNotificationStore(sqlstore.SQLite(db))
}

func NewCheckoutStore(db *sql.DB) *CheckoutStore {
	return sqlstore.NewCheckoutStore(sqlstore.SQLite(db))
}

func NewOrderSummaryStore(db *sql.DB) *OrderSummaryStore {
	return sqlstore.NewOrderSummaryStore(sqlstore.SQLite(db))
}

func NewShadowOrderSummary(db *sql.DB) *ShadowOrderSummary {
	return sqlstore.NewShadowOrderSummary(sqlstore.SQLite(db))
}
