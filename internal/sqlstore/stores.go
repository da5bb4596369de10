package sqlstore

// Stores are the plain-row stores of one database, each on db.
type Stores struct {
	Poison        *PoisonStore
	Inbox         *Inbox
	Idempotency   *IdempotencyStore
	Snapshots     *SnapshotStore
	Checkpoints   *CheckpointStore
	Notifications *NotificationStore
	Checkouts     *CheckoutStore
	OrderSummary  *OrderSummaryStore
	Shadow        *ShadowOrderSummary
}

// Open returns every plain-row store on db. They share db and hold nothing
// else, so opening them all costs nine small allocations.
func Open(db DB) Stores {
	return Stores{
		Poison:        NewPoisonStore(db),
		Inbox:         NewInbox(db),
		Idempotency:   NewIdempotencyStore(db),
		Snapshots:     NewSnapshotStore(db),
		Checkpoints:   NewCheckpointStore(db),
		Notifications: NewNotificationStore(db),
		Checkouts:     NewCheckoutStore(db),
		OrderSummary:  NewOrderSummaryStore(db),
		Shadow:        NewShadowOrderSummary(db),
	}
}
