package command

import (
	"context"

	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// DeliverOrder marks a shipped order delivered. IfMatch > 0 is the version the caller expects.
type DeliverOrder struct {
	OrderID string
	IfMatch int64
}

// DeliverOrderHandler runs DeliverOrder.
type DeliverOrderHandler struct{ deps }

func NewDeliverOrderHandler(repo *repository.Orders, clock ports.Clock) DeliverOrderHandler {
	return DeliverOrderHandler{newDeps(repo, clock)}
}

// Handle applies the command; see repository.Orders.Update for concurrency.
func (h DeliverOrderHandler) Handle(ctx context.Context, cmd DeliverOrder) (Result, error) {
	return h.update(ctx, cmd.OrderID, cmd.IfMatch, func(o *order.Order) error {
		return o.Deliver(h.clock.Now())
	})
}
