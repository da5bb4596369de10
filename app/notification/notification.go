// Package notification tells the outside world when an order is confirmed,
// cancelled or shipped: every such event becomes one notification, stored
// (listed per order) and handed to the configured notifiers (a webhook).
package notification

import (
	"context"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/ports"
)

// Handler reacts to order events.
type Handler struct {
	store ports.NotificationStore
	sinks []ports.Notifier
}

// New panics without a store; sinks may be empty.
func New(store ports.NotificationStore, sinks ...ports.Notifier) *Handler {
	if store == nil {
		panic("notification: nil store")
	}
	return &Handler{store: store, sinks: sinks}
}

// StoreOnly reports whether Handle's only effect is the stored
// notification (no notifiers): a row keyed by the event id, saved once
// however often the event comes (NotificationStore.Save is idempotent by
// id), so it needs no inbox. With a notifier (a webhook) it does: the call
// is outside the database.
func (h *Handler) StoreOnly() bool { return len(h.sinks) == 0 }

// Ignores reports whether Handle certainly ignores an event of this stream
// and event type, known before its payload is decoded: the event types of
// orders at their current version that notify nobody (a placed order), and
// other aggregates. An older version of an event type is not ignored: it is
// upcast first, and may become one that notifies.
func (h *Handler) Ignores(streamType, eventType string) bool {
	if streamType != order.AggregateType {
		return true
	}
	switch eventType {
	case order.EventPlaced, order.EventDelivered:
		return true
	}
	return false
}

// Handle stores and sends the notification of a confirmed, cancelled or
// shipped order, keyed by the event id; other events are ignored. It is
// idempotent in the store; notifiers may see a redelivered event again (at
// least once, with the same id). An error is transient.
func (h *Handler) Handle(ctx context.Context, e ports.RecordedEvent) error {
	if e.Stream.Type != order.AggregateType {
		return nil
	}
	ev, err := order.DecodeEvent(e.Type, e.Data)
	if err != nil {
		return err
	}
	n := ports.Notification{ID: e.Metadata.EventID, OrderID: e.Stream.ID, At: e.Metadata.OccurredAt}
	switch ev := ev.(type) {
	case order.Confirmed:
		n.Kind = "confirmed"
	case order.Cancelled:
		n.Kind, n.Reason = "cancelled", ev.Reason
	case order.Shipped:
		n.Kind = "shipped"
	default:
		return nil
	}
	if err := h.store.Save(ctx, n); err != nil {
		return apperr.Dependency(err, "store notification of %s", n.OrderID)
	}
	for _, s := range h.sinks {
		if err := s.Notify(ctx, n); err != nil {
			return apperr.Wrap(apperr.Unavailable, err, "send notification of %s", n.OrderID)
		}
	}
	return nil
}
