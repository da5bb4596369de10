package sqlstore

import (
	"context"

	"github.com/orderflow/orderflow/ports"
)

// NotificationStore keeps notifications in table notifications.
type NotificationStore struct{ db DB }

// NewNotificationStore returns a store on db.
func NewNotificationStore(db DB) *NotificationStore { return &NotificationStore{db: db} }

// Save implements ports.NotificationStore; a notification already there is
// kept.
func (s *NotificationStore) Save(ctx context.Context, n ports.Notification) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO notifications (id, order_id, kind, reason, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, n.ID, n.OrderID, n.Kind, n.Reason, s.db.Dialect.time(n.At))
	if err != nil {
		return s.db.Dialect.errorf("save notification %s: %w", n.ID, err)
	}
	return nil
}

// List implements ports.NotificationStore, oldest first; none is an empty
// slice.
func (s *NotificationStore) List(ctx context.Context, orderID string) ([]ports.Notification, error) {
	rows, err := s.db.Query(ctx, `
		SELECT id, order_id, kind, reason, at FROM notifications WHERE order_id = ? ORDER BY seq`, orderID)
	if err != nil {
		return nil, s.db.Dialect.errorf("list notifications of %s: %w", orderID, err)
	}
	defer rows.Close()
	out := []ports.Notification{}
	for rows.Next() {
		var n ports.Notification
		if err := rows.Scan(&n.ID, &n.OrderID, &n.Kind, &n.Reason, ScanTime(&n.At)); err != nil {
			return nil, s.db.Dialect.errorf("list notifications of %s: %w", orderID, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, s.db.Dialect.errorf("list notifications of %s: %w", orderID, err)
	}
	return out, nil
}
