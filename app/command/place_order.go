package command

import (
	"context"
	"errors"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// PlaceOrder places a new order. OrderID is chosen by the caller: a UUIDv7,
// or an id derived from an idempotency key, so that a retried request finds
// its order instead of placing another.
type PlaceOrder struct {
	order.PlaceParams
}

// PlaceOrderHandler stores the order.placed event of a new order.
type PlaceOrderHandler struct{ deps }

func NewPlaceOrderHandler(repo *repository.Orders, clock ports.Clock) PlaceOrderHandler {
	return PlaceOrderHandler{newDeps(repo, clock)}
}

// Handle validates the order and stores it. Invalid input writes nothing.
func (h PlaceOrderHandler) Handle(ctx context.Context, cmd PlaceOrder) (Result, error) {
	o, err := order.Place(cmd.PlaceParams, h.clock.Now())
	if err != nil {
		return Result{}, err
	}
	err = h.repo.Create(ctx, o)
	if errors.Is(err, ports.ErrConcurrency) {
		return h.placedBefore(ctx, cmd)
	}
	if err != nil {
		return Result{}, err
	}
	return resultOf(o), nil
}

// placedBefore answers a PlaceOrder whose order id is taken. The caller
// derives ids from an idempotency key, so that is a retry of a request that
// was stored but never answered: the same order gets the answer it would
// have got. Another order under that id is a conflict.
func (h PlaceOrderHandler) placedBefore(ctx context.Context, cmd PlaceOrder) (Result, error) {
	events, err := h.repo.History(ctx, cmd.OrderID)
	if err != nil {
		return Result{}, err
	}
	first, err := repository.Fold(events, repository.AtVersion(1))
	if err != nil {
		return Result{}, err
	}
	if !samePlacement(first, cmd.PlaceParams) {
		return Result{}, apperr.New(apperr.Conflict, "order %s was placed with different details", cmd.OrderID)
	}
	return resultOf(first), nil
}

func samePlacement(o *order.Order, p order.PlaceParams) bool {
	items := o.Items()
	if o.CustomerID() != p.CustomerID || o.Currency() != p.Currency || o.ShippingAddress() != p.ShippingAddress ||
		o.PaymentMethod() != p.PaymentMethod || len(items) != len(p.Items) {
		return false
	}
	for i, it := range items {
		if it.SKU != p.Items[i].SKU || it.Quantity != p.Items[i].Quantity || it.UnitPrice != p.Items[i].UnitPrice {
			return false
		}
	}
	return true
}
