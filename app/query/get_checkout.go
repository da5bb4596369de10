package query

import (
	"context"
	"errors"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/wire"
	"github.com/orderflow/orderflow/ports"
)

// GetCheckout reads an order's checkout: state, step log, compensations,
// reason.
type GetCheckout struct{ OrderID string }

// GetCheckoutHandler answers GetCheckout.
type GetCheckoutHandler struct{ store ports.CheckoutStore }

func NewGetCheckoutHandler(store ports.CheckoutStore) GetCheckoutHandler {
	return GetCheckoutHandler{store: wire.Need(store, "query: nil checkout store")}
}

// Handle returns apperr.NotFound for an order whose checkout has not started.
func (h GetCheckoutHandler) Handle(ctx context.Context, q GetCheckout) (ports.Checkout, error) {
	c, err := h.store.Get(ctx, q.OrderID)
	if errors.Is(err, ports.ErrCheckoutNotFound) {
		return c, apperr.Detail(err, "no checkout for order %s", q.OrderID)
	}
	if err != nil {
		return c, apperr.Wrap(apperr.Unavailable, err, "cannot read checkout of %s", q.OrderID)
	}
	return c, nil
}

// CheckoutOnOrder is what an order's view shows of its checkout, given
// GetCheckout's answer: the checkout while it runs and after it failed;
// nothing (nil, nil) once it confirmed the order, or before it started.
func CheckoutOnOrder(c ports.Checkout, err error) (*ports.Checkout, error) {
	switch {
	case apperr.Is(err, apperr.NotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case c.State == "confirmed" || c.State == "completed":
		return nil, nil
	}
	return &c, nil
}
