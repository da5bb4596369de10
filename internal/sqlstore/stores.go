package sqlstore

// Stores are the plain-row stores of one database, each on db.
type Stores struct {
	Poison        *PoisonStore
	Retries       *RetryStore
	Inbox         *Inbox
	Idempotency   *IdempotencyStore
	Snapshots     *SnapshotStore
	Checkpoints   *CheckpointStore
	Notifications *NotificationStore
	Checkouts     *CheckoutStore
	OrderSummary  *OrderSummaryStore
	Shadow        *ShadowOrderSummary
	// Tx runs units of work over these stores and the event store of the
	// same database.
	Tx Transactor
}

// Open returns every plain-row store on db. They share db and hold nothing
// else, so opening them all costs eleven small allocations.
func Open(db DB) Stores {
	return Stores{
		Poison:        NewPoisonStore(db),
		Retries:       NewRetryStore(db),
		Inbox:         NewInbox(db),
		Idempotency:   NewIdempotencyStore(db),
		Snapshots:     NewSnapshotStore(db),
		Checkpoints:   NewCheckpointStore(db),
		Notifications: NewNotificationStore(db),
		Checkouts:     NewCheckoutStore(db),
		OrderSummary:  NewOrderSummaryStore(db),
		Shadow:        NewShadowOrderSummary(db),
		Tx:            NewTransactor(db),
	}
}
