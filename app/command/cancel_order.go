package command

import (
	"time"

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

func (c CancelOrder) target() (string, int64) { return c.OrderID, c.IfMatch }

// CancelOrderHandler runs CancelOrder; see repository.Orders.Update for concurrency.
type CancelOrderHandler struct{ orderTransition[CancelOrder] }

func NewCancelOrderHandler(repo *repository.Orders, clock ports.Clock) CancelOrderHandler {
	return CancelOrderHandler{newOrderTransition(repo, clock, func(o *order.Order, cmd CancelOrder, now time.Time) error {
		return o.Cancel(cmd.Reason, now)
	})}
}
