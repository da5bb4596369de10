package query

import (
	"context"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/text"
	"github.com/orderflow/orderflow/app/wire"
	"github.com/orderflow/orderflow/ports"
)

// Page sizes of ListCheckouts.
const (
	DefaultCheckoutPage = 50
	MaxCheckoutPage     = 500
)

// ListCheckouts lists the checkouts in State (an operator's view: the
// parked ones), by order id: up to Limit (DefaultCheckoutPage when 0, at
// most MaxCheckoutPage) with an order id after After ("" starts at the
// beginning).
type ListCheckouts struct {
	State string
	After string
	Limit int
}

// CheckoutPage is one page of checkouts.
type CheckoutPage = Page[ports.Checkout]

// ListCheckoutsHandler answers ListCheckouts from the checkout store.
type ListCheckoutsHandler struct{ store ports.CheckoutStore }

func NewListCheckoutsHandler(store ports.CheckoutStore) ListCheckoutsHandler {
	return ListCheckoutsHandler{store: wire.Need(store, "query: nil checkout store")}
}

// Handle returns apperr.Invalid for a missing state, a negative Limit or an
// After no order id could be; a store error is returned as it is.
func (h ListCheckoutsHandler) Handle(ctx context.Context, q ListCheckouts) (CheckoutPage, error) {
	var fields []apperr.FieldError
	if q.State == "" {
		fields = append(fields, apperr.FieldError{Field: "state", Message: "required"})
	} else if msg := text.Problem(q.State); msg != "" {
		fields = append(fields, apperr.FieldError{Field: "state", Message: msg})
	}
	if msg := text.Problem(q.After); msg != "" {
		fields = append(fields, apperr.FieldError{Field: "after", Message: msg})
	}
	if q.Limit < 0 {
		fields = append(fields, apperr.FieldError{Field: "limit", Message: "must be 0 or more"})
	}
	if len(fields) > 0 {
		return CheckoutPage{}, apperr.Validation("invalid checkout listing", fields)
	}
	limit := pageSize(q.Limit, DefaultCheckoutPage, MaxCheckoutPage)
	list, err := h.store.InState(ctx, q.State, q.After, limit)
	if err != nil {
		return CheckoutPage{}, apperr.Dependency(err, "cannot list checkouts")
	}
	return CheckoutPage{Items: list, NextAfter: nextAfter(list, limit, func(c ports.Checkout) string { return c.OrderID })}, nil
}
