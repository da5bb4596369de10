package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/ports"
)

// NotificationStore keeps notifications on PostgreSQL.
type NotificationStore struct{ pool *pgxpool.Pool }

var _ ports.NotificationStore = (*NotificationStore)(nil)

// NewNotificationStore returns a store on pool.
func NewNotificationStore(pool *pgxpool.Pool) *NotificationStore {
	if pool == nil {
		panic("postgres: nil pool")
	}
	return &NotificationStore{pool: pool}
}

// Save implements ports.NotificationStore.
func (s *NotificationStore) Save(ctx context.Context, n ports.Notification) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO notifications (id, order_id, kind, reason, at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO NOTHING`, n.ID, n.OrderID, n.Kind, n.Reason, n.At)
	if err != nil {
		return fmt.Errorf("postgres: save notification %s: %w", n.ID, err)
	}
	return nil
}

// List implements ports.NotificationStore.
func (s *NotificationStore) List(ctx context.Context, orderID string) ([]ports.Notification, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, order_id, kind, reason, at FROM notifications WHERE order_id = $1 ORDER BY seq`, orderID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list notifications of %s: %w", orderID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ports.Notification, error) {
		var n ports.Notification
		err := r.Scan(&n.ID, &n.OrderID, &n.Kind, &n.Reason, &n.At)
		n.At = n.At.UTC()
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list notifications of %s: %w", orderID, err)
	}
	if out == nil {
		out = []ports.Notification{}
	}
	return out, nil
}
