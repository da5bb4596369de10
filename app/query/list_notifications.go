package query

import (
	"context"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// ListNotifications lists an order's notifications, oldest first.
type ListNotifications struct{ OrderID string }

// ListNotificationsHandler answers ListNotifications.
type ListNotificationsHandler struct{ store ports.NotificationStore }

func NewListNotificationsHandler(store ports.NotificationStore) ListNotificationsHandler {
	if store == nil {
		panic("query: nil notification store")
	}
	return ListNotificationsHandler{store: store}
}

func (h ListNotificationsHandler) Handle(ctx context.Context, q ListNotifications) ([]ports.Notification, error) {
	ns, err := h.store.List(ctx, q.OrderID)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err, "cannot list notifications of %s", q.OrderID)
	}
	return ns, nil
}
