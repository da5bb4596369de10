package command

import (
	"time"

	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// ShipOrder hands a confirmed order to a carrier. IfMatch > 0 is the version
// the caller expects.
type ShipOrder struct {
	OrderID        string
	Carrier        string
	TrackingNumber string
	IfMatch        int64
}

func (c ShipOrder) target() (string, int64) { return c.OrderID, c.IfMatch }

// ShipOrderHandler runs ShipOrder; see repository.Orders.Update for concurrency.
type ShipOrderHandler struct{ orderTransition[ShipOrder] }

func NewShipOrderHandler(repo *repository.Orders, clock ports.Clock) ShipOrderHandler {
	return ShipOrderHandler{newOrderTransition(repo, clock, func(o *order.Order, cmd ShipOrder, now time.Time) error {
		return o.Ship(cmd.Carrier, cmd.TrackingNumber, now)
	})}
}
