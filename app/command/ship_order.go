package command

import (
	"context"

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

// ShipOrderHandler runs ShipOrder.
type ShipOrderHandler struct{ deps }

func NewShipOrderHandler(repo *repository.Orders, clock ports.Clock) ShipOrderHandler {
	return ShipOrderHandler{newDeps(repo, clock)}
}

// Handle applies the command; see repository.Orders.Update for concurrency.
func (h ShipOrderHandler) Handle(ctx context.Context, cmd ShipOrder) (Result, error) {
	return h.update(ctx, cmd.OrderID, cmd.IfMatch, func(o *order.Order) error {
		return o.Ship(cmd.Carrier, cmd.TrackingNumber, h.clock.Now())
	})
}
