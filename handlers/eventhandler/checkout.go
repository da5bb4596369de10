package eventhandler

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	wm "github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/meta"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/tick"
	"github.com/orderflow/orderflow/ports"
)

// Advancer moves an order's checkout forward; it is idempotent (see
// app/saga).
type Advancer interface {
	Advance(ctx context.Context, orderID string) error
}

// Checkout adapts the checkout saga to a Watermill handler for order
// events: each event names an order, whose checkout is advanced. (It also
// takes inventory and payment events, naming their order by the order_id of
// inventory events and the stream id of payment streams, for a replay
// through it.) Events about no order (a restock) are acked as is, and so
// are order.confirmed events: only the checkout confirms an order, in the
// same transaction as its own state, so their delivery has nothing to move.
// A redelivered or duplicated message advances nothing twice.
func Checkout(saga Advancer) wm.NoPublishHandlerFunc {
	return func(msg *wm.Message) error {
		e, err := eventwire.FromMessage(msg)
		if err != nil {
			return err
		}
		if e.Stream.Type == order.AggregateType && e.Type == order.EventConfirmed {
			return nil
		}
		orderID, err := orderOf(e)
		if err != nil || orderID == "" {
			return err
		}
		ctx := meta.WithCorrelationID(msg.Context(), e.Metadata.CorrelationID)
		ctx = meta.WithCausationID(ctx, e.Metadata.EventID)
		return saga.Advance(ctx, orderID)
	}
}

func orderOf(e ports.RecordedEvent) (string, error) {
	if e.Stream.Type != "inventory" {
		return e.Stream.ID, nil
	}
	var body struct {
		OrderID string `json:"order_id"`
	}
	if err := json.Unmarshal(e.Data, &body); err != nil {
		return "", apperr.Wrap(apperr.Invalid, err, "inventory event %s", e.Metadata.EventID)
	}
	return body.OrderID, nil
}

// DueScanner is the saga's durable timer: it polls the persisted deadlines.
type DueScanner interface {
	AdvanceDue(ctx context.Context, limit int) (int, error)
}

// ScanDeadlines calls AdvanceDue every interval until ctx ends. Deadlines
// live in the database, so a restart loses none: the first scan after it
// picks up every checkout that fell due meanwhile.
func ScanDeadlines(ctx context.Context, s DueScanner, interval time.Duration, logger *slog.Logger) {
	tick.Every(ctx, interval, func(ctx context.Context) bool {
		for {
			n, err := s.AdvanceDue(ctx, 100)
			if err != nil && ctx.Err() == nil {
				logger.WarnContext(ctx, "deadline scan", "error", err)
			}
			if n < 100 || err != nil {
				return true
			}
		}
	})
}
