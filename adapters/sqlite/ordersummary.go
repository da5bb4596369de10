package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// OrderSummaryStore is the order_summary read model of the embedded mode.
//
// Save is one conditional statement (INSERT ... ON CONFLICT DO NOTHING for a
// new row, UPDATE ... WHERE version = prev otherwise), so concurrent
// projectors cannot both win. List pages newest first by the keyset
// (created_at, order_id); the cursor is that key of the page's last row, so
// rows inserted later never shift the pages after it.
type OrderSummaryStore struct {
	db    *sql.DB
	table string // order_summary, or its shadow during a rebuild
}

var _ ports.OrderSummaryStore = (*OrderSummaryStore)(nil)

// NewOrderSummaryStore returns a store on db, a database from Open.
func NewOrderSummaryStore(db *sql.DB) *OrderSummaryStore {
	if db == nil {
		panic("sqlite: nil database")
	}
	return &OrderSummaryStore{db: db, table: summaryTable}
}

const summaryColumns = `order_id, customer_id, status, items, total, currency, version,
	created_at, updated_at, cancellation_reason, carrier, tracking_number`

// Save implements ports.OrderSummaryStore.
func (s *OrderSummaryStore) Save(ctx context.Context, o ports.OrderSummary, prevVersion int64) error {
	if prevVersion < 0 {
		return apperr.New(apperr.Invalid, "save order summary %s: bad previous version %d", o.OrderID, prevVersion)
	}
	items := o.Items
	if items == nil {
		items = []ports.OrderLine{}
	}
	itemsJSON, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("sqlite: encode items of order %s: %w", o.OrderID, err)
	}
	args := []any{o.CustomerID, o.Status, string(itemsJSON), o.Total, o.Currency, o.Version,
		encodeTime(o.CreatedAt), encodeTime(o.UpdatedAt), o.CancellationReason, o.Carrier, o.TrackingNumber,
		o.OrderID}
	var res sql.Result
	if prevVersion == 0 {
		res, err = s.db.ExecContext(ctx, `
			INSERT INTO `+s.table+` (customer_id, status, items, total, currency, version,
				created_at, updated_at, cancellation_reason, carrier, tracking_number, order_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (order_id) DO NOTHING`, args...)
	} else {
		res, err = s.db.ExecContext(ctx, `
			UPDATE `+s.table+` SET customer_id = ?, status = ?, items = ?, total = ?, currency = ?,
				version = ?, created_at = ?, updated_at = ?, cancellation_reason = ?, carrier = ?,
				tracking_number = ?
			WHERE order_id = ? AND version = ?`, append(args, prevVersion)...)
	}
	if err != nil {
		return fmt.Errorf("sqlite: save order summary %s: %w", o.OrderID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: save order summary %s: %w", o.OrderID, err)
	}
	if n == 0 {
		return fmt.Errorf("order summary %s not at version %d: %w", o.OrderID, prevVersion, ports.ErrStaleWrite)
	}
	return nil
}

// Get implements ports.OrderSummaryReader. An unknown order is an
// apperr.NotFound error wrapping ports.ErrNotFound.
func (s *OrderSummaryStore) Get(ctx context.Context, orderID string) (ports.OrderSummary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+summaryColumns+` FROM `+s.table+` WHERE order_id = ?`, orderID)
	if err != nil {
		return ports.OrderSummary{}, fmt.Errorf("sqlite: get order summary %s: %w", orderID, err)
	}
	found, err := scanSummaries(rows)
	if err != nil {
		return ports.OrderSummary{}, fmt.Errorf("sqlite: get order summary %s: %w", orderID, err)
	}
	if len(found) == 0 {
		return ports.OrderSummary{}, apperr.Wrap(apperr.NotFound, ports.ErrNotFound, "order %s not found", orderID)
	}
	return found[0], nil
}

// List implements ports.OrderSummaryReader. A Limit below 1 is
// apperr.Invalid; a cursor List did not issue is apperr.Invalid wrapping
// ports.ErrInvalidCursor.
func (s *OrderSummaryStore) List(ctx context.Context, f ports.OrderFilter) (ports.OrderPage, error) {
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
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return ports.OrderPage{}, err
		}
		where, args = append(where, "(created_at, order_id) < (?, ?)"), append(args, c.CreatedAt, c.OrderID)
	}
	query := `SELECT ` + summaryColumns + ` FROM ` + s.table
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_at DESC, order_id DESC LIMIT ?`
	args = append(args, f.Limit+1) // one more tells whether a next page exists

	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return ports.OrderPage{}, fmt.Errorf("sqlite: list orders: %w", err)
	}
	items, err := scanSummaries(rows)
	if err != nil {
		return ports.OrderPage{}, fmt.Errorf("sqlite: list orders: %w", err)
	}
	page := ports.OrderPage{Items: items}
	if len(items) > f.Limit {
		page.Items = items[:f.Limit]
		last := page.Items[f.Limit-1]
		page.NextCursor = encodeCursor(cursor{CreatedAt: encodeTime(last.CreatedAt), OrderID: last.OrderID})
	}
	return page, nil
}

func scanSummaries(rows *sql.Rows) ([]ports.OrderSummary, error) {
	defer rows.Close()
	var out []ports.OrderSummary
	for rows.Next() {
		var (
			o                  ports.OrderSummary
			items              string
			created, updatedAt string
		)
		if err := rows.Scan(&o.OrderID, &o.CustomerID, &o.Status, &items, &o.Total, &o.Currency, &o.Version,
			&created, &updatedAt, &o.CancellationReason, &o.Carrier, &o.TrackingNumber); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(items), &o.Items); err != nil {
			return nil, fmt.Errorf("items of order %s: %w", o.OrderID, err)
		}
		var err error
		if o.CreatedAt, err = decodeTime(created); err != nil {
			return nil, err
		}
		if o.UpdatedAt, err = decodeTime(updatedAt); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// cursor is the keyset of the last row of a page, as stored.
type cursor struct {
	CreatedAt string `json:"c"`
	OrderID   string `json:"o"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) // two strings: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	invalid := func(reason string) error {
		return apperr.Wrap(apperr.Invalid, fmt.Errorf("%w: %s", ports.ErrInvalidCursor, reason), "invalid cursor")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, invalid("not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c cursor
	if err := dec.Decode(&c); err != nil || dec.More() {
		return cursor{}, invalid("not a cursor")
	}
	if c.OrderID == "" {
		return cursor{}, invalid("no order id")
	}
	if _, err := decodeTime(c.CreatedAt); err != nil {
		return cursor{}, invalid("bad time")
	}
	return c, nil
}
