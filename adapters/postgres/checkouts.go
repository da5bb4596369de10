package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/ports"
)

// CheckoutStore is the checkout saga's state on PostgreSQL. Save is one
// conditional statement, so two writers of one checkout cannot both win.
type CheckoutStore struct{ pool *pgxpool.Pool }

var _ ports.CheckoutStore = (*CheckoutStore)(nil)

// NewCheckoutStore returns a store on pool (a database migrated by
// migrations/postgres).
func NewCheckoutStore(pool *pgxpool.Pool) *CheckoutStore {
	if pool == nil {
		panic("postgres: nil pool")
	}
	return &CheckoutStore{pool: pool}
}

// Save implements ports.CheckoutStore.
func (s *CheckoutStore) Save(ctx context.Context, c ports.Checkout) error {
	steps, err := marshalSteps(c.Steps)
	if err != nil {
		return err
	}
	comps, err := marshalSteps(c.Compensations)
	if err != nil {
		return err
	}
	args := []any{c.OrderID, c.State, c.Reason, c.AuthorizationID, steps, comps,
		c.StartedAt, c.DeadlineAt, c.UpdatedAt, c.Version}
	var sql string
	switch {
	case c.Version < 1:
		return fmt.Errorf("postgres: save checkout %s: version %d", c.OrderID, c.Version)
	case c.Version == 1:
		sql = `INSERT INTO checkouts (order_id, state, reason, authorization_id, steps, compensations,
				started_at, deadline_at, updated_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (order_id) DO NOTHING`
	default:
		sql = `UPDATE checkouts SET state = $2, reason = $3, authorization_id = $4, steps = $5,
				compensations = $6, started_at = $7, deadline_at = $8, updated_at = $9, version = $10
			WHERE order_id = $1 AND version = $10 - 1`
	}
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("postgres: save checkout %s: %w", c.OrderID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("checkout %s not at version %d: %w", c.OrderID, c.Version-1, ports.ErrConcurrency)
	}
	return nil
}

// Get implements ports.CheckoutStore.
func (s *CheckoutStore) Get(ctx context.Context, orderID string) (ports.Checkout, error) {
	var c ports.Checkout
	var steps, comps []byte
	err := s.pool.QueryRow(ctx, `
		SELECT order_id, state, reason, authorization_id, steps, compensations,
		       started_at, deadline_at, updated_at, version
		FROM checkouts WHERE order_id = $1`, orderID).Scan(&c.OrderID, &c.State, &c.Reason,
		&c.AuthorizationID, &steps, &comps, &c.StartedAt, &c.DeadlineAt, &c.UpdatedAt, &c.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("order %s: %w", orderID, ports.ErrCheckoutNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("postgres: get checkout %s: %w", orderID, err)
	}
	if err := errors.Join(json.Unmarshal(steps, &c.Steps), json.Unmarshal(comps, &c.Compensations)); err != nil {
		return c, fmt.Errorf("postgres: checkout %s step log: %w", orderID, err)
	}
	c.StartedAt, c.DeadlineAt, c.UpdatedAt = c.StartedAt.UTC(), c.DeadlineAt.UTC(), c.UpdatedAt.UTC()
	for i := range c.Steps {
		c.Steps[i].At = c.Steps[i].At.UTC()
	}
	for i := range c.Compensations {
		c.Compensations[i].At = c.Compensations[i].At.UTC()
	}
	return c, nil
}

// Due implements ports.CheckoutStore.
func (s *CheckoutStore) Due(ctx context.Context, now time.Time, states []string, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT order_id FROM checkouts WHERE deadline_at <= $1 AND state = ANY($2)
		ORDER BY deadline_at, order_id LIMIT $3`, now, states, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: due checkouts: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: due checkouts: %w", err)
	}
	return ids, nil
}

// marshalSteps encodes a step log at microsecond precision, as timestamptz
// keeps the other times.
func marshalSteps(steps []ports.CheckoutStep) ([]byte, error) {
	out := make([]ports.CheckoutStep, len(steps))
	for i, st := range steps {
		st.At = st.At.UTC().Truncate(time.Microsecond)
		out[i] = st
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("postgres: encode checkout steps: %w", err)
	}
	return b, nil
}
