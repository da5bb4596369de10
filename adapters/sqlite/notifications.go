package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/orderflow/orderflow/ports"
)

// NotificationStore keeps notifications in the embedded database.
type NotificationStore struct{ db *sql.DB }

var _ ports.NotificationStore = (*NotificationStore)(nil)

// NewNotificationStore returns a store on db, a database from Open.
func NewNotificationStore(db *sql.DB) *NotificationStore {
	if db == nil {
		panic("sqlite: nil database")
	}
	return &NotificationStore{db: db}
}

// Save implements ports.NotificationStore.
func (s *NotificationStore) Save(ctx context.Context, n ports.Notification) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO notifications (id, order_id, kind, reason, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, n.ID, n.OrderID, n.Kind, n.Reason, encodeTime(n.At))
	if err != nil {
		return fmt.Errorf("sqlite: save notification %s: %w", n.ID, err)
	}
	return nil
}

// List implements ports.NotificationStore.
func (s *NotificationStore) List(ctx context.Context, orderID string) ([]ports.Notification, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, order_id, kind, reason, at FROM notifications WHERE order_id = ? ORDER BY seq`, orderID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list notifications of %s: %w", orderID, err)
	}
	defer rows.Close()
	out := []ports.Notification{}
	for rows.Next() {
		var n ports.Notification
		var at string
		if err := rows.Scan(&n.ID, &n.OrderID, &n.Kind, &n.Reason, &at); err != nil {
			return nil, fmt.Errorf("sqlite: list notifications of %s: %w", orderID, err)
		}
		if n.At, err = decodeTime(at); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list notifications of %s: %w", orderID, err)
	}
	return out, nil
}
