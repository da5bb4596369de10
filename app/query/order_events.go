package query

import (
	"context"

	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/app/wire"
	"github.com/orderflow/orderflow/ports"
)

// OrderEvents lists every stored event of an order, oldest first.
type OrderEvents struct {
	OrderID string
}

// OrderEventsHandler reads the order's stream from the event store.
type OrderEventsHandler struct {
	repo *repository.Orders
}

func NewOrderEventsHandler(repo *repository.Orders) OrderEventsHandler {
	return OrderEventsHandler{repo: wire.Need(repo, "query: nil repository")}
}

// Handle returns apperr.NotFound for an unknown order.
func (h OrderEventsHandler) Handle(ctx context.Context, q OrderEvents) ([]ports.RecordedEvent, error) {
	return h.repo.History(ctx, q.OrderID)
}
