package saga

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/meta"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel/trace"
)

// Started checkouts run from the database: Start records that an order's
// checkout is to run (one row, no step), and the service's runner
// (eventhandler.RunCheckouts) runs the started checkouts concurrently, so
// that their units commit in batches (Deps.Batches), whatever the broker's
// partitions. The row is the durable record: a process that dies with
// checkouts it had not finished leaves them to the next claim once their
// lease ends (ClaimLease), and the deadline scanner still sees them.
//
// A checkout started while this process's runner is attached (Attach) is
// handed to it: Start writes the row leased to this process already, and
// the runner takes it (TakeStarted) without a claim, a statement saved per
// order. Those the runner has no room for (more than Config.HandOff
// waiting) are written runnable at once, for any process's claim
// (ClaimStarted): under a backlog, the processes share the work.

// ClaimLease is how long a claimed checkout is left to the process that
// claimed it before another claim may take it.
const ClaimLease = 10 * time.Second

// DefaultHandOff is Config.HandOff's default: a runner of 64 slots that
// confirms 100 checkouts a second takes a checkout handed to it within
// about 3 s, well within its lease.
const DefaultHandOff = 256

// Start records that orderID's checkout is to run, and returns: the runner
// (TakeStarted or ClaimStarted, then RunStarted) runs it. A checkout that
// exists already is left as it is.
func (s *Checkout) Start(ctx context.Context, orderID string) error {
	t, _, err := s.start(ctx, orderID)
	if err != nil || t == nil {
		return err
	}
	c := t.next
	c.NextAttemptAt = c.StartedAt // runnable now, by any process
	handed := s.handOff.reserve()
	if handed {
		c.NextAttemptAt = c.StartedAt.Add(ClaimLease) // leased to this process's runner
	}
	o := origin{span: trace.SpanContextFromContext(ctx), correlation: meta.CorrelationID(ctx), causation: meta.CausationID(ctx)}
	if handed {
		o.row = &c
	}
	s.origins.Put(orderID, o)
	err = s.d.Checkouts.Save(ctx, c)
	if handed {
		s.handOff.settle(orderID, err == nil)
	}
	if err != nil {
		s.origins.Drop(orderID)
	}
	switch {
	case errors.Is(err, ports.ErrConcurrency):
		return nil // started already
	case err != nil:
		return apperr.Dependency(err, "start checkout %s", orderID)
	}
	if s.cfg.AfterStep != nil {
		s.cfg.AfterStep(StepStart)
	}
	select {
	case s.started <- struct{}{}:
	default:
	}
	return nil
}

// Attach tells Start that a runner of this process takes the checkouts it
// starts (TakeStarted) until detach is called. Checkouts handed to it and
// not taken when it detaches run after their lease, by a claim.
func (s *Checkout) Attach() (detach func()) {
	s.handOff.attach(1)
	return sync.OnceFunc(func() { s.handOff.attach(-1) })
}

// TakeStarted takes up to limit of the checkouts handed to this process's
// runner, the first started first. spilled reports that Start has, since
// the last call, written started checkouts for a claim because the
// hand-off was full: the runner should claim.
func (s *Checkout) TakeStarted(limit int) (ids []string, spilled bool) {
	return s.handOff.take(limit)
}

// handOff is the queue of checkouts Start leased to this process's runner.
type handOff struct {
	mu       sync.Mutex
	limit    int
	runners  int
	reserved int // Starts between reserve and settle
	ids      []string
	spilled  bool
}

// reserve makes room for one checkout, if a runner is attached and the
// queue has room; settle then adds it, or gives the room back.
func (h *handOff) reserve() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.runners == 0 {
		return false
	}
	if len(h.ids)+h.reserved >= h.limit {
		h.spilled = true
		return false
	}
	h.reserved++
	return true
}

func (h *handOff) settle(orderID string, saved bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reserved--
	if saved {
		h.ids = append(h.ids, orderID)
	}
}

func (h *handOff) attach(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.runners += n
}

func (h *handOff) take(limit int) ([]string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := min(limit, len(h.ids))
	ids := slices.Clone(h.ids[:n])
	h.ids = slices.Delete(h.ids, 0, n)
	spilled := h.spilled
	h.spilled = false
	return ids, spilled
}

// Started is signalled when this process started a checkout (Start).
func (s *Checkout) Started() <-chan struct{} { return s.started }

// ClaimStarted claims up to limit runnable checkouts for this process
// (ClaimLease) and returns their order ids, for RunStarted: those started
// for any process, and those whose process did not finish them in their
// lease.
func (s *Checkout) ClaimStarted(ctx context.Context, limit int) ([]string, error) {
	now := s.d.Clock.Now()
	ids, err := s.d.Checkouts.Claim(ctx, DueStates, now, now.Add(ClaimLease), limit)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err, "claim started checkouts")
	}
	return ids, nil
}

// RunStarted advances a claimed checkout, in the trace and correlation of
// the event that started it when this process started it. A checkout that
// fails backs off and is parked after Config.MaxAttempts failures, as the
// deadline scanner's do.
//
// A checkout handed to this process's runner starts from the row Start
// saved, without reading it: the row is leased to this process, and were
// it moved meanwhile (a cancel's Advance, another process's claim after
// the lease), the first unit's save fails its version check, its effects
// roll back, and the next unit reads the row.
func (s *Checkout) RunStarted(ctx context.Context, orderID string) error {
	ctx, row := s.origin(ctx, orderID)
	err := s.advance(ctx, orderID, row)
	if err != nil && ctx.Err() == nil {
		err = errors.Join(err, s.attemptFailed(ctx, orderID, err))
	}
	return err
}

// origin is where a started checkout comes from: the trace and the
// correlation of the event that started it.
type origin struct {
	span                   trace.SpanContext
	correlation, causation string
	// row is the checkout as Start saved it, when it was handed to this
	// process's runner; else nil.
	row *ports.Checkout
}

// originsKept bounds the origins a process keeps for the checkouts it
// started and has not run yet (another process may run them).
const originsKept = 4096

// origin continues the trace and the correlation of the event that started
// orderID's checkout in this process, if it is known here, and returns the
// row Start handed to the runner, if it did.
func (s *Checkout) origin(ctx context.Context, orderID string) (context.Context, *ports.Checkout) {
	o, ok := s.origins.Get(orderID)
	if !ok {
		return ctx, nil
	}
	s.origins.Drop(orderID)
	if o.span.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, o.span)
	}
	return meta.WithCausationID(meta.WithCorrelationID(ctx, o.correlation), o.causation), o.row
}
