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

// ReadyRunner runs the started checkouts (app/saga: Start, Attach,
// TakeStarted, ClaimStarted, RunStarted).
type ReadyRunner interface {
	Attach() (detach func())
	TakeStarted(limit int) (ids []string, spilled bool)
	ClaimStarted(ctx context.Context, limit int) ([]string, error)
	RunStarted(ctx context.Context, orderID string) error
	Started() <-chan struct{}
}

// RunCheckouts runs the started checkouts until ctx ends, each in its own
// slot, at most limit at a time, so that one that waits (a slow payment
// provider) holds one slot and not the others. It runs first those this
// process started (handed to it, no claim needed), then claims from the
// database: at its start and every interval (checkouts whose process died,
// retries come due), and after a claim that filled every free slot or a
// hand-off that spilled over (a backlog waits there), until a claim
// leaves slots free. While a backlog waits in the database, the handed
// checkouts take at most half the free slots and claims the rest: the
// spilled ones are older than those handed after them, and would
// otherwise wait until the hand-off ran dry. It returns when the
// checkouts it runs have ended.
func RunCheckouts(ctx context.Context, r ReadyRunner, limit int, interval time.Duration, logger *slog.Logger) {
	var wg sync.WaitGroup
	defer wg.Wait()
	detach := r.Attach()
	defer detach()
	slots := make(chan struct{}, limit)
	ended := make(chan struct{}, 1)
	run := func(id string) {
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
	t := time.NewTicker(interval)
	defer t.Stop()
	claim := true
	for {
		free := limit - len(slots)
		take := free
		if claim && free > 1 {
			take = free / 2 // the rest for the claim
		}
		handed, spilled := r.TakeStarted(take)
		for _, id := range handed {
			run(id)
		}
		claim = claim || spilled
		if free -= len(handed); free > 0 && claim {
			ids, err := r.ClaimStarted(ctx, free)
			if err != nil && ctx.Err() == nil {
				logger.WarnContext(ctx, "claim started checkouts", "error", err)
			}
			for _, id := range ids {
				run(id)
			}
			claim = len(ids) == free // a full claim: more may wait
		}
		select {
		case <-ctx.Done():
			return
		case <-r.Started():
		case <-ended:
		case <-t.C:
			claim = true
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
