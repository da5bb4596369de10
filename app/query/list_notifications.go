package query

import (
	"context"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// ListNotifications lists an order's notifications, oldest first.
type ListNotifications struct{ OrderID string }

// ListNotificationsHandler answers ListNotifications.
type ListNotificationsHandler struct {
	store ports.NotificationStore
	repo  *repository.Orders
}

func NewListNotificationsHandler(store ports.NotificationStore, repo *repository.Orders) ListNotificationsHandler {
	if store == nil || repo == nil {
		panic("query: nil notification store or repository")
	}
	return ListNotificationsHandler{store: store, repo: repo}
}

// Handle returns apperr.NotFound for an order that does not exist (like
// OrderEvents), and an empty list for one that has no notifications yet.
// The event store is asked only when the list is empty.
func (h ListNotificationsHandler) Handle(ctx context.Context, q ListNotifications) ([]ports.Notification, error) {
	ns, err := h.store.List(ctx, q.OrderID)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err, "cannot list notifications of %s", q.OrderID)
	}
	if len(ns) == 0 {
		if _, err := h.repo.History(ctx, q.OrderID); err != nil {
			return nil, err
		}
	}
	return ns, nil
}
