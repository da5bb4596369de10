package query

import (
	"context"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/app/wire"
	"github.com/orderflow/orderflow/ports"
)

// OrderHistory asks for the order as it was at a version or at a moment:
// exactly one of Version (> 0) and At (non-nil; any moment, the zero time
// included) is set.
type OrderHistory struct {
	OrderID string
	Version int64
	At      *time.Time
}

// OrderHistoryHandler rebuilds past states from the event store (time travel),
// never from the read model, so it is exact whatever the projections do.
type OrderHistoryHandler struct {
	repo *repository.Orders
}

func NewOrderHistoryHandler(repo *repository.Orders) OrderHistoryHandler {
	return OrderHistoryHandler{repo: wire.Need(repo, "query: nil repository")}
}

// Handle returns apperr.Invalid unless exactly one of Version and At is set,
// and apperr.NotFound for an unknown order, a version past the latest, or a
// moment before the order was placed ("did not exist yet").
func (h OrderHistoryHandler) Handle(ctx context.Context, q OrderHistory) (ports.OrderSummary, error) {
	if (q.Version > 0) == (q.At != nil) {
		return ports.OrderSummary{}, apperr.Validation("invalid history query", []apperr.FieldError{
			{Field: "version", Message: "give exactly one of version (>= 1) or at (RFC 3339)"}})
	}
	events, err := h.repo.History(ctx, q.OrderID)
	if err != nil {
		return ports.OrderSummary{}, err
	}
	var keep func(ports.RecordedEvent) bool
	if q.At != nil {
		keep = repository.AtTime(*q.At)
	} else {
		if last := events[len(events)-1].Version; q.Version > last {
			return ports.OrderSummary{}, apperr.New(apperr.NotFound,
				"order %s has no version %d; its latest version is %d", q.OrderID, q.Version, last)
		}
		keep = repository.AtVersion(q.Version)
	}
	o, err := repository.Fold(events, keep)
	if err != nil {
		if q.At != nil && apperr.Is(err, apperr.NotFound) {
			return ports.OrderSummary{}, apperr.New(apperr.NotFound,
				"order %s did not exist yet at %s", q.OrderID, q.At.UTC().Format(time.RFC3339Nano))
		}
		return ports.OrderSummary{}, err
	}
	return SummaryOf(o), nil
}

// SummaryOf presents an aggregate state in the read model's shape.
func SummaryOf(o *order.Order) ports.OrderSummary {
	items := o.Items()
	lines := make([]ports.OrderLine, len(items))
	for i, it := range items {
		lines[i] = ports.OrderLine{SKU: it.SKU, Quantity: it.Quantity, UnitPrice: it.UnitPrice}
	}
	return ports.OrderSummary{
		OrderID: o.ID(), CustomerID: o.CustomerID(), Status: string(o.Status()), Items: lines,
		Total: o.Total(), Currency: o.Currency(), Version: o.Version(),
		CreatedAt: o.PlacedAt(), UpdatedAt: o.UpdatedAt(),
		CancellationReason: o.CancellationReason(), Carrier: o.Carrier(), TrackingNumber: o.TrackingNumber(),
	}
}
