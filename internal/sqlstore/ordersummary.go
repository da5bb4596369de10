package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// OrderSummaryStore is the order_summary read model.
//
// Save is one conditional statement (INSERT ... ON CONFLICT DO NOTHING for a
// new row, UPDATE ... WHERE version = prev otherwise), so concurrent
// projectors cannot both win. List pages newest first by the keyset
// (created_at, order_id); the cursor is that key of the page's last row, so
// rows inserted later never shift the pages after it.
//
// Errors: Get of an unknown order and List with a cursor it did not issue
// return apperr errors (NotFound, Invalid) wrapping ports.ErrNotFound and
// ports.ErrInvalidCursor; a rejected Save wraps ports.ErrStaleWrite.
type OrderSummaryStore struct {
	db    DB
	table string // order_summary, or its shadow during a rebuild
}

// NewOrderSummaryStore returns a store on db.
func NewOrderSummaryStore(db DB) *OrderSummaryStore {
	return &OrderSummaryStore{db: db, table: summaryTable}
}

const summaryColumns = `order_id, customer_id, status, items, total, currency, version,
	created_at, updated_at, cancellation_reason, carrier, tracking_number`

// Save implements ports.OrderSummaryStore: an insert when prevVersion is 0,
// otherwise an update of the row only if it is still at prevVersion. A
// negative prevVersion is apperr.Invalid.
func (s *OrderSummaryStore) Save(ctx context.Context, o ports.OrderSummary, prevVersion int64) error {
	d := s.db.Dialect
	if prevVersion < 0 {
		return apperr.New(apperr.Invalid, "save order summary %s: bad previous version %d", o.OrderID, prevVersion)
	}
	items := o.Items
	if items == nil {
		items = []ports.OrderLine{}
	}
	itemsJSON, err := json.Marshal(items)
	if err != nil {
		return d.errorf("encode items of order %s: %w", o.OrderID, err)
	}
	args := []any{o.CustomerID, o.Status, d.json(itemsJSON), o.Total, o.Currency, o.Version,
		d.time(o.CreatedAt), d.time(o.UpdatedAt), o.CancellationReason, o.Carrier, o.TrackingNumber,
		o.OrderID}
	var n int64
	if prevVersion == 0 {
		n, err = s.db.Exec(ctx, `
			INSERT INTO `+s.table+` (customer_id, status, items, total, currency, version,
				created_at, updated_at, cancellation_reason, carrier, tracking_number, order_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (order_id) DO NOTHING`, args...)
	} else {
		n, err = s.db.Exec(ctx, `
			UPDATE `+s.table+` SET customer_id = ?, status = ?, items = ?, total = ?, currency = ?,
				version = ?, created_at = ?, updated_at = ?, cancellation_reason = ?, carrier = ?,
				tracking_number = ?
			WHERE order_id = ? AND version = ?`, append(args, prevVersion)...)
	}
	if err != nil {
		return d.errorf("save order summary %s: %w", o.OrderID, err)
	}
	if n == 0 {
		return fmt.Errorf("order summary %s not at version %d: %w", o.OrderID, prevVersion, ports.ErrStaleWrite)
	}
	return nil
}

// Get implements ports.OrderSummaryReader. An unknown order is an
// apperr.NotFound error wrapping ports.ErrNotFound.
func (s *OrderSummaryStore) Get(ctx context.Context, orderID string) (ports.OrderSummary, error) {
	rows, err := s.db.Query(ctx, `SELECT `+summaryColumns+` FROM `+s.table+` WHERE order_id = ?`, orderID)
	if err != nil {
		return ports.OrderSummary{}, s.db.Dialect.errorf("get order summary %s: %w", orderID, err)
	}
	found, err := scanSummaries(rows)
	if err != nil {
		return ports.OrderSummary{}, s.db.Dialect.errorf("get order summary %s: %w", orderID, err)
	}
	if len(found) == 0 {
		return ports.OrderSummary{}, apperr.Detail(ports.ErrNotFound, "order %s not found", orderID)
	}
	return found[0], nil
}

// List implements ports.OrderSummaryReader. A Limit below 1 is
// apperr.Invalid; a cursor List did not issue is apperr.Invalid wrapping
// ports.ErrInvalidCursor.
func (s *OrderSummaryStore) List(ctx context.Context, f ports.OrderFilter) (ports.OrderPage, error) {
	d := s.db.Dialect
	if f.Limit < 1 {
		return ports.OrderPage{}, apperr.New(apperr.Invalid, "list orders: limit %d, want at least 1", f.Limit)
	}
	var (
		where []string
		args  []any
	)
	if f.CustomerID != "" {
		where, args = append(where, "customer_id = ?"), append(args, f.CustomerID)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Cursor != "" {
		c, err := d.cursor.decode(f.Cursor)
		if err != nil {
			return ports.OrderPage{}, err
		}
		where, args = append(where, "(created_at, order_id) < (?, ?)"), append(args, d.time(c.createdAt), c.orderID)
	}
	query := `SELECT ` + summaryColumns + ` FROM ` + s.table
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_at DESC, order_id DESC LIMIT ?`
	args = append(args, f.Limit+1) // one more tells whether a next page exists

	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return ports.OrderPage{}, d.errorf("list orders: %w", err)
	}
	items, err := scanSummaries(rows)
	if err != nil {
		return ports.OrderPage{}, d.errorf("list orders: %w", err)
	}
	page := ports.OrderPage{Items: items}
	if len(items) > f.Limit {
		page.Items = items[:f.Limit]
		last := page.Items[f.Limit-1]
		page.NextCursor = d.cursor.encode(cursor{createdAt: last.CreatedAt, orderID: last.OrderID})
	}
	return page, nil
}

// scanSummaries reads rows of summaryColumns and closes them.
func scanSummaries(rows Rows) ([]ports.OrderSummary, error) {
	defer rows.Close()
	var out []ports.OrderSummary
	for rows.Next() {
		var o ports.OrderSummary
		var items []byte
		if err := rows.Scan(&o.OrderID, &o.CustomerID, &o.Status, &items, &o.Total, &o.Currency, &o.Version,
			ScanTime(&o.CreatedAt), ScanTime(&o.UpdatedAt), &o.CancellationReason, &o.Carrier, &o.TrackingNumber); err != nil {
			return nil, fmt.Errorf("scan order summary: %w", err)
		}
		if err := json.Unmarshal(items, &o.Items); err != nil {
			return nil, fmt.Errorf("order summary %s: decode items: %w", o.OrderID, err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
