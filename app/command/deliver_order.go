package command

import (
	"time"

	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// DeliverOrder marks a shipped order delivered. IfMatch > 0 is the version the caller expects.
type DeliverOrder struct {
	OrderID string
	IfMatch int64
}

func (c DeliverOrder) target() (string, int64) { return c.OrderID, c.IfMatch }

// DeliverOrderHandler runs DeliverOrder; see repository.Orders.Update for concurrency.
type DeliverOrderHandler struct{ orderTransition[DeliverOrder] }

func NewDeliverOrderHandler(repo *repository.Orders, clock ports.Clock) DeliverOrderHandler {
	return DeliverOrderHandler{newOrderTransition(repo, clock, func(o *order.Order, cmd DeliverOrder, now time.Time) error {
		return o.Deliver(now)
	})}
}
