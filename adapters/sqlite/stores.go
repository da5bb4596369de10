package sqlite

import (
	"database/sql"

	"github.com/orderflow/orderflow/internal/sqlstore"
)

// The stores that are plain rows (poison queue, inbox, idempotency keys,
// snapshots, projection checkpoints, notifications, checkouts, the order
// summary and its shadow rebuild) are written once, in internal/sqlstore,
// for SQLite and PostgreSQL. Each constructor here returns one on db, a
// database from Open, and panics on a nil db. Expiries (inbox, idempotency
// keys) are unix milliseconds of this machine's clock.
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
