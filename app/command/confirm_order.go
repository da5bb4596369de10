package command

import (
	"context"

	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// ConfirmOrder confirms a placed order. IfMatch > 0 is the version the caller expects.
type ConfirmOrder struct {
	OrderID string
	IfMatch int64
}

// ConfirmOrderHandler runs ConfirmOrder.
type ConfirmOrderHandler struct{ deps }

func NewConfirmOrderHandler(repo *repository.Orders, clock ports.Clock) ConfirmOrderHandler {
	return ConfirmOrderHandler{newDeps(repo, clock)}
}

// Handle applies the command; see repository.Orders.Update for concurrency.
func (h ConfirmOrderHandler) Handle(ctx context.Context, cmd ConfirmOrder) (Result, error) {
	return h.update(ctx, cmd.OrderID, cmd.IfMatch, func(o *order.Order) error {
		return o.Confirm(h.clock.Now())
	})
}
