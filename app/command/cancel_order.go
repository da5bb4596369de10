package command

import (
	"context"

	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// CancelOrder cancels a placed or confirmed order. IfMatch > 0 is the version
// the caller expects.
type CancelOrder struct {
	OrderID string
	Reason  string
	IfMatch int64
}

// CancelOrderHandler runs CancelOrder.
type CancelOrderHandler struct{ deps }

func NewCancelOrderHandler(repo *repository.Orders, clock ports.Clock) CancelOrderHandler {
	return CancelOrderHandler{newDeps(repo, clock)}
}

// Handle applies the command; see repository.Orders.Update for concurrency.
func (h CancelOrderHandler) Handle(ctx context.Context, cmd CancelOrder) (Result, error) {
	return h.update(ctx, cmd.OrderID, cmd.IfMatch, func(o *order.Order) error {
		return o.Cancel(cmd.Reason, h.clock.Now())
	})
}
