package ports

import (
	"context"
	"time"
)

// Notification tells the outside world that an order changed.
type Notification struct {
	// ID is the id of the event that caused it: the idempotency key of
	// every delivery (a receiver drops an ID it has seen).
	ID      string    `json:"id"`
	OrderID string    `json:"order_id"`
	Kind    string    `json:"kind"` // confirmed, cancelled or shipped
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

// Notifier delivers a notification somewhere (a webhook...). Deliveries are
// at least once: Notify may be called again with the same ID, and an error
// means "try again later".
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// NotificationStore keeps every notification, listed per order. Save is
// idempotent by ID: saving an ID again changes nothing. List returns an
// order's notifications oldest first (none for an unknown order).
type NotificationStore interface {
	Save(ctx context.Context, n Notification) error
	List(ctx context.Context, orderID string) ([]Notification, error)
}
