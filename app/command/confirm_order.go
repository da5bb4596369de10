package command

import (
	"time"

	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// ConfirmOrder confirms a placed order. IfMatch > 0 is the version the caller expects.
type ConfirmOrder struct {
	OrderID string
	IfMatch int64
}

func (c ConfirmOrder) target() (string, int64) { return c.OrderID, c.IfMatch }

// ConfirmOrderHandler runs ConfirmOrder; see repository.Orders.Update for concurrency.
type ConfirmOrderHandler struct{ orderTransition[ConfirmOrder] }

func NewConfirmOrderHandler(repo *repository.Orders, clock ports.Clock) ConfirmOrderHandler {
	return ConfirmOrderHandler{newOrderTransition(repo, clock, func(o *order.Order, cmd ConfirmOrder, now time.Time) error {
		return o.Confirm(now)
	})}
}
