package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orderflow/orderflow/ports"
)

// CheckoutStore is the checkout saga's state in the embedded database.
// Save is one conditional statement, so two writers of one checkout cannot
// both win.
type CheckoutStore struct{ db *sql.DB }

var _ ports.CheckoutStore = (*CheckoutStore)(nil)

// NewCheckoutStore returns a store on db, a database from Open.
func NewCheckoutStore(db *sql.DB) *CheckoutStore {
	if db == nil {
		panic("sqlite: nil database")
	}
	return &CheckoutStore{db: db}
}

// Save implements ports.CheckoutStore.
func (s *CheckoutStore) Save(ctx context.Context, c ports.Checkout) error {
	steps, err := encodeSteps(c.Steps)
	if err != nil {
		return err
	}
	comps, err := encodeSteps(c.Compensations)
	if err != nil {
		return err
	}
	args := []any{c.State, c.Reason, c.AuthorizationID, steps, comps, encodeTime(c.StartedAt),
		encodeTime(c.DeadlineAt), encodeTime(c.UpdatedAt), c.Version, c.OrderID}
	var res sql.Result
	switch {
	case c.Version < 1:
		return fmt.Errorf("sqlite: save checkout %s: version %d", c.OrderID, c.Version)
	case c.Version == 1:
		res, err = s.db.ExecContext(ctx, `
			INSERT INTO checkouts (state, reason, authorization_id, steps, compensations,
				started_at, deadline_at, updated_at, version, order_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING`, args...)
	default:
		res, err = s.db.ExecContext(ctx, `
			UPDATE checkouts SET state = ?, reason = ?, authorization_id = ?, steps = ?,
				compensations = ?, started_at = ?, deadline_at = ?, updated_at = ?, version = ?
			WHERE order_id = ? AND version = ?`, append(args, c.Version-1)...)
	}
	if err != nil {
		return fmt.Errorf("sqlite: save checkout %s: %w", c.OrderID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: save checkout %s: %w", c.OrderID, err)
	}
	if n == 0 {
		return fmt.Errorf("checkout %s not at version %d: %w", c.OrderID, c.Version-1, ports.ErrConcurrency)
	}
	return nil
}

// Get implements ports.CheckoutStore.
func (s *CheckoutStore) Get(ctx context.Context, orderID string) (ports.Checkout, error) {
	var c ports.Checkout
	var steps, comps, started, deadline, updated string
	err := s.db.QueryRowContext(ctx, `
		SELECT order_id, state, reason, authorization_id, steps, compensations,
		       started_at, deadline_at, updated_at, version
		FROM checkouts WHERE order_id = ?`, orderID).Scan(&c.OrderID, &c.State, &c.Reason,
		&c.AuthorizationID, &steps, &comps, &started, &deadline, &updated, &c.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("order %s: %w", orderID, ports.ErrCheckoutNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: get checkout %s: %w", orderID, err)
	}
	if err := errors.Join(json.Unmarshal([]byte(steps), &c.Steps), json.Unmarshal([]byte(comps), &c.Compensations)); err != nil {
		return c, fmt.Errorf("sqlite: checkout %s step log: %w", orderID, err)
	}
	for _, p := range []struct {
		dst *time.Time
		s   string
	}{{&c.StartedAt, started}, {&c.DeadlineAt, deadline}, {&c.UpdatedAt, updated}} {
		if *p.dst, err = decodeTime(p.s); err != nil {
			return c, err
		}
	}
	return c, nil
}

// Due implements ports.CheckoutStore.
func (s *CheckoutStore) Due(ctx context.Context, now time.Time, states []string, limit int) ([]string, error) {
	if len(states) == 0 {
		return nil, nil
	}
	args := []any{encodeTime(now)}
	for _, st := range states {
		args = append(args, st)
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, `
		SELECT order_id FROM checkouts
		WHERE deadline_at <= ? AND state IN (?`+strings.Repeat(", ?", len(states)-1)+`)
		ORDER BY deadline_at, order_id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due checkouts: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: due checkouts: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: due checkouts: %w", err)
	}
	return ids, nil
}

func encodeSteps(steps []ports.CheckoutStep) (string, error) {
	out := make([]ports.CheckoutStep, len(steps))
	for i, st := range steps {
		st.At = storedTime(st.At)
		out[i] = st
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("sqlite: encode checkout steps: %w", err)
	}
	return string(b), nil
}
