package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

var _ ports.OrderSummaryStore = (*OrderSummaryStore)(nil)

// OrderSummaryStore is the order_summary read model on PostgreSQL.
//
// Errors: Get of an unknown order and List with a cursor it did not issue
// return apperr errors (NotFound, Invalid) wrapping ports.ErrNotFound and
// ports.ErrInvalidCursor; a rejected Save wraps ports.ErrStaleWrite.
type OrderSummaryStore struct {
	pool  *pgxpool.Pool
	table string // order_summary, or its shadow during a rebuild
}

// NewOrderSummaryStore returns a store on pool, which must be connected to a
// database migrated by migrations/postgres. It panics on a nil pool.
func NewOrderSummaryStore(pool *pgxpool.Pool) *OrderSummaryStore {
	if pool == nil {
		panic("postgres.NewOrderSummaryStore: nil pool")
	}
	return &OrderSummaryStore{pool: pool, table: summaryTable}
}

const summaryColumns = `order_id, customer_id, status, items, total, currency, version,
	created_at, updated_at, cancellation_reason, carrier, tracking_number`

// Save implements ports.OrderSummaryStore: an insert when prevVersion is 0,
// otherwise an update of the row only if it is still at prevVersion. Either
// way one statement, so concurrent projectors cannot both win.
func (s *OrderSummaryStore) Save(ctx context.Context, o ports.OrderSummary, prevVersion int64) error {
	items, err := json.Marshal(nonNil(o.Items))
	if err != nil {
		return fmt.Errorf("save order summary %s: %w", o.OrderID, err)
	}
	args := []any{o.OrderID, o.CustomerID, o.Status, items, o.Total, o.Currency, o.Version,
		o.CreatedAt, o.UpdatedAt, o.CancellationReason, o.Carrier, o.TrackingNumber}
	var query string
	if prevVersion == 0 {
		query = `INSERT INTO ` + s.table + ` (` + summaryColumns + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (order_id) DO NOTHING`
	} else {
		query = `UPDATE ` + s.table + ` SET customer_id = $2, status = $3, items = $4, total = $5,
			currency = $6, version = $7, created_at = $8, updated_at = $9,
			cancellation_reason = $10, carrier = $11, tracking_number = $12
			WHERE order_id = $1 AND version = $13`
		args = append(args, prevVersion)
	}
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("save order summary %s: %w", o.OrderID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("save order summary %s over version %d: %w", o.OrderID, prevVersion, ports.ErrStaleWrite)
	}
	return nil
}

func nonNil(items []ports.OrderLine) []ports.OrderLine {
	if items == nil {
		return []ports.OrderLine{}
	}
	return items
}

// Get implements ports.OrderSummaryReader.
func (s *OrderSummaryStore) Get(ctx context.Context, orderID string) (ports.OrderSummary, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+summaryColumns+` FROM `+s.table+` WHERE order_id = $1`, orderID)
	if err != nil {
		return ports.OrderSummary{}, fmt.Errorf("get order summary %s: %w", orderID, err)
	}
	found, err := scanSummaries(rows)
	if err != nil {
		return ports.OrderSummary{}, fmt.Errorf("get order summary %s: %w", orderID, err)
	}
	if len(found) == 0 {
		return ports.OrderSummary{}, apperr.Wrap(apperr.NotFound, ports.ErrNotFound, "order %s not found", orderID)
	}
	return found[0], nil
}

// List implements ports.OrderSummaryReader with keyset pagination on
// (created_at, order_id), newest first. A Limit below 1 is apperr.Invalid.
func (s *OrderSummaryStore) List(ctx context.Context, f ports.OrderFilter) (ports.OrderPage, error) {
	if f.Limit < 1 {
		return ports.OrderPage{}, apperr.New(apperr.Invalid, "list orders: limit %d, want at least 1", f.Limit)
	}
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.CustomerID != "" {
		where = append(where, "customer_id = "+arg(f.CustomerID))
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(f.Status))
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return ports.OrderPage{}, err
		}
		where = append(where, fmt.Sprintf("(created_at, order_id) < (%s, %s)", arg(c.createdAt), arg(c.orderID)))
	}
	query := `SELECT ` + summaryColumns + ` FROM ` + s.table
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	// One row more than the page tells whether there is a next page.
	query += ` ORDER BY created_at DESC, order_id DESC LIMIT ` + arg(f.Limit+1)

	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return ports.OrderPage{}, fmt.Errorf("list orders: %w", err)
	}
	items, err := scanSummaries(rows)
	if err != nil {
		return ports.OrderPage{}, fmt.Errorf("list orders: %w", err)
	}
	page := ports.OrderPage{Items: items}
	if len(items) > f.Limit {
		page.Items = items[:f.Limit]
		last := page.Items[f.Limit-1]
		page.NextCursor = encodeCursor(cursor{createdAt: last.CreatedAt, orderID: last.OrderID})
	}
	return page, nil
}

// scanSummaries reads rows of summaryColumns and closes them.
func scanSummaries(rows pgx.Rows) ([]ports.OrderSummary, error) {
	defer rows.Close()
	var out []ports.OrderSummary
	for rows.Next() {
		var o ports.OrderSummary
		var items []byte
		err := rows.Scan(&o.OrderID, &o.CustomerID, &o.Status, &items, &o.Total, &o.Currency, &o.Version,
			&o.CreatedAt, &o.UpdatedAt, &o.CancellationReason, &o.Carrier, &o.TrackingNumber)
		if err != nil {
			return nil, fmt.Errorf("scan order summary: %w", err)
		}
		if err := json.Unmarshal(items, &o.Items); err != nil {
			return nil, fmt.Errorf("order summary %s: decode items: %w", o.OrderID, err)
		}
		o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// cursor is the position after the last row of a page.
type cursor struct {
	createdAt time.Time
	orderID   string
}

// cursorJSON is a cursor on the wire: base64url of this JSON. Time is in
// Unix microseconds, the precision of timestamptz, so the boundary row
// compares equal.
type cursorJSON struct {
	CreatedAt *int64 `json:"t"`
	OrderID   string `json:"id"`
}

func encodeCursor(c cursor) string {
	micros := c.createdAt.UnixMicro()
	b, _ := json.Marshal(cursorJSON{CreatedAt: &micros, OrderID: c.orderID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	invalid := func(cause error) error {
		return apperr.Wrap(apperr.Invalid, fmt.Errorf("%w: %w", ports.ErrInvalidCursor, cause), "invalid cursor")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, invalid(err)
	}
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil {
		return cursor{}, invalid(err)
	}
	if c.CreatedAt == nil || c.OrderID == "" {
		return cursor{}, invalid(errors.New("missing fields"))
	}
	return cursor{createdAt: time.UnixMicro(*c.CreatedAt).UTC(), orderID: c.OrderID}, nil
}
