package eventhandler

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
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
// app/saga). Start only records that a placed order's checkout is to run
// (RunCheckouts runs it).
type Advancer interface {
	Advance(ctx context.Context, orderID string) error
	Start(ctx context.Context, orderID string) error
}

// Checkout adapts the checkout saga to a Watermill handler for order
// events: each event names an order, whose checkout is advanced. (It also
// takes inventory and payment events, naming their order by the order_id of
// inventory events and the stream id of payment streams, for a replay
// through it.) Events about no order (a restock) are acked as is, and so
// are order.confirmed events: only the checkout confirms an order, in the
// same transaction as its own state, so their delivery has nothing to move.
// A placed order's checkout is started, not advanced: the handler returns
// once the checkout's row is written, and RunCheckouts advances it with
// the others waiting (in batches, see app/saga). A redelivered or
// duplicated message advances nothing twice.
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
		if e.Stream.Type == order.AggregateType && e.Type == order.EventPlaced {
			return saga.Start(ctx, orderID)
		}
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

// ReadyRunner runs the started checkouts (app/saga: Start, ClaimStarted,
// RunStarted).
type ReadyRunner interface {
	ClaimStarted(ctx context.Context, limit int) ([]string, error)
	RunStarted(ctx context.Context, orderID string) error
	Started() <-chan struct{}
}

// RunCheckouts runs the started checkouts until ctx ends, each in its own
// goroutine, at most limit at a time: whenever a slot is free it claims as
// many as are free, at once again while it finds some, else when this
// process starts one (Started), a checkout ends, or every interval (for
// those other processes start, and those whose claim by a process that
// died has ended). A slow checkout (a payment provider that takes its
// time) holds one slot, never the others. It returns once the checkouts
// it runs have ended.
func RunCheckouts(ctx context.Context, r ReadyRunner, limit int, interval time.Duration, logger *slog.Logger) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, limit)
	ended := make(chan struct{}, 1)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		claimed, free := 0, limit-len(slots)
		if free > 0 {
			ids, err := r.ClaimStarted(ctx, free)
			if err != nil && ctx.Err() == nil {
				logger.WarnContext(ctx, "claim started checkouts", "error", err)
			}
			for _, id := range ids {
				slots <- struct{}{}
				wg.Go(func() {
					defer func() {
						<-slots
						select {
						case ended <- struct{}{}:
						default:
						}
					}()
					if err := r.RunStarted(ctx, id); err != nil && ctx.Err() == nil {
						logger.WarnContext(ctx, "run started checkout", "order_id", id, "error", err)
					}
				})
			}
			claimed = len(ids)
		}
		if claimed > 0 && claimed == free {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-r.Started():
		case <-ended:
		case <-t.C:
		}
	}
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
