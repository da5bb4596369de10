package ports

import (
	"context"
	"github.com/orderflow/orderflow/app/apperr"
	"time"
)

// ErrNotFound is returned by read models for an unknown id.
var ErrNotFound = apperr.New(apperr.NotFound, "not found")

// ErrStaleWrite is returned by OrderSummaryStore.Save when the stored row is
// not at the version the caller read: another projector got there first.
var ErrStaleWrite = apperr.New(apperr.Conflict, "read model row changed concurrently")

// OrderLine is one line of an order summary. Amounts are minor units.
type OrderLine struct {
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// OrderSummary is the order_summary read model: one row per order, at the
// version of the last event applied to it.
type OrderSummary struct {
	OrderID            string
	CustomerID         string
	Status             string
	Items              []OrderLine
	Total              int64
	Currency           string
	Version            int64
	CreatedAt          time.Time
	UpdatedAt          time.Time
	CancellationReason string
	Carrier            string
	TrackingNumber     string
}

// OrderFilter selects orders for listing. Empty fields match everything.
// Limit is at least 1; Cursor is the NextCursor of the previous page, opaque.
type OrderFilter struct {
	CustomerID string
	Status     string
	Limit      int
	Cursor     string
}

// OrderPage is one page of a listing, newest order first. NextCursor is empty
// on the last page. Pages are stable: an order created after the first page
// was read never shifts later pages.
type OrderPage struct {
	Items      []OrderSummary
	NextCursor string
}

// OrderSummaryReader answers queries on the order_summary read model.
// Get returns ErrNotFound for an unknown order. List returns an error wrapping
// ErrInvalidCursor for a cursor it did not issue.
type OrderSummaryReader interface {
	Get(ctx context.Context, orderID string) (OrderSummary, error)
	List(ctx context.Context, filter OrderFilter) (OrderPage, error)
}

// ErrInvalidCursor is wrapped by List for a malformed cursor.
var ErrInvalidCursor = apperr.New(apperr.Invalid, "invalid cursor")

// OrderSummaryStore is the projection's side of the read model.
//
// Save writes s if the stored row is at prevVersion (0: no row yet), and
// returns ErrStaleWrite otherwise, writing nothing. This conditional write is
// what makes the projection idempotent and safe with concurrent projectors.
type OrderSummaryStore interface {
	OrderSummaryReader
	Save(ctx context.Context, s OrderSummary, prevVersion int64) error
}
