package saga

import (
	"context"
	"errors"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/meta"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel/trace"
)

// Started checkouts run from the database: Start records that an order's
// checkout is to run (one row, no step), and the service's runner
// (eventhandler.RunCheckouts: ClaimStarted, RunStarted) claims the started
// checkouts in sets and advances them concurrently, so that their units
// commit in batches as large as the set (Deps.Batches), whatever the
// broker's partitions. The row is the durable record: a process that dies
// with checkouts claimed leaves them to the next claim once their lease
// ends (ClaimLease), and the deadline scanner still sees them.

// ClaimLease is how long a claimed checkout is left to the process that
// claimed it before another claim may take it.
const ClaimLease = 10 * time.Second

// Start records that orderID's checkout is to run, and returns: the runner
// (ClaimStarted, RunStarted) runs it. A checkout that exists already is left as it is.
func (s *Checkout) Start(ctx context.Context, orderID string) error {
	t, _, err := s.start(ctx, orderID)
	if err != nil || t == nil {
		return err
	}
	c := t.next
	c.NextAttemptAt = c.StartedAt // runnable now
	s.origins.Put(orderID, origin{span: trace.SpanContextFromContext(ctx),
		correlation: meta.CorrelationID(ctx), causation: meta.CausationID(ctx)})
	err = s.d.Checkouts.Save(ctx, c)
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

// Started is signalled when this process started a checkout (Start).
func (s *Checkout) Started() <-chan struct{} { return s.started }

// ClaimStarted claims up to limit runnable checkouts for this process
// (ClaimLease) and returns their order ids, for RunStarted.
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
func (s *Checkout) RunStarted(ctx context.Context, orderID string) error {
	err := s.Advance(s.origin(ctx, orderID), orderID)
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
}

// originsKept bounds the origins a process keeps for the checkouts it
// started and has not run yet (another process may run them).
const originsKept = 4096

// origin continues the trace and the correlation of the event that started
// orderID's checkout in this process, if it is known here.
func (s *Checkout) origin(ctx context.Context, orderID string) context.Context {
	o, ok := s.origins.Get(orderID)
	if !ok {
		return ctx
	}
	s.origins.Drop(orderID)
	if o.span.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, o.span)
	}
	return meta.WithCausationID(meta.WithCorrelationID(ctx, o.correlation), o.causation)
}
