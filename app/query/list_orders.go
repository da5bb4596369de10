package query

import (
	"context"
	"errors"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/domain/text"
	"github.com/orderflow/orderflow/app/wire"
	"github.com/orderflow/orderflow/ports"
)

// Listing limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// ListOrders lists orders newest first. Limit 0 means DefaultLimit; a larger
// limit than MaxLimit is capped, not refused.
type ListOrders struct {
	CustomerID string
	Status     string
	Limit      int
	Cursor     string
}

// ListOrdersHandler answers ListOrders from the order_summary read model.
type ListOrdersHandler struct {
	reader ports.OrderSummaryReader
}

func NewListOrdersHandler(reader ports.OrderSummaryReader) ListOrdersHandler {
	return ListOrdersHandler{reader: wire.Need(reader, "query: nil order summary reader")}
}

func (h ListOrdersHandler) Handle(ctx context.Context, q ListOrders) (ports.OrderPage, error) {
	var fields []apperr.FieldError
	switch order.Status(q.Status) {
	case "", order.StatusPlaced, order.StatusConfirmed, order.StatusCancelled, order.StatusShipped, order.StatusDelivered:
	default:
		fields = append(fields, apperr.FieldError{Field: "status",
			Message: "must be one of placed, confirmed, cancelled, shipped, delivered"})
	}
	if q.Limit < 0 {
		fields = append(fields, apperr.FieldError{Field: "limit", Message: "must be between 1 and 100"})
	}
	if msg := text.Problem(q.CustomerID); msg != "" { // no order could have it
		fields = append(fields, apperr.FieldError{Field: "customer_id", Message: msg})
	}
	if !text.Valid(q.Cursor) {
		fields = append(fields, apperr.FieldError{Field: "cursor", Message: "is not a cursor this service issued"})
	}
	if err := apperr.Validation("invalid order listing", fields); err != nil {
		return ports.OrderPage{}, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	page, err := h.reader.List(ctx, ports.OrderFilter{CustomerID: q.CustomerID, Status: q.Status, Limit: limit, Cursor: q.Cursor})
	switch {
	case errors.Is(err, ports.ErrInvalidCursor):
		return page, &apperr.Error{Code: apperr.Invalid, Message: "invalid order listing",
			Fields: []apperr.FieldError{{Field: "cursor", Message: "is not a cursor this service issued"}}, Err: err}
	case err != nil:
		return page, apperr.Wrap(apperr.Unavailable, err, "cannot list orders")
	}
	return page, nil
}
