package command

import (
	"context"

	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// PlaceOrder places a new order. OrderID is chosen by the caller (a UUIDv7),
// so a retried request can be recognised.
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
	if err := h.repo.Create(ctx, o); err != nil {
		return Result{}, err
	}
	return resultOf(o), nil
}
