// Package saga is the checkout process manager: order placed → reserve
// inventory → authorize payment → confirm order, and on any failure the
// compensations of what was done (void the authorization, release the
// reservation, cancel the order). Shipping captures the payment and commits
// the reservation.
//
// Its state is one persisted row per checkout (ports.CheckoutStore), saved
// with a version check in the same transaction as the effects on the
// database of the steps it records (ports.Transactor), so a crash leaves a
// step done and recorded, or neither, and a step's database effect happens
// once by construction. The payment provider is called between transactions,
// requested-then-answered: the request is recorded first, the call carries
// the idempotency key "<order id>:<step>", and the answer is recorded after.
// Advance may therefore be called any number of times, concurrently, from
// any event that concerns the order or from the deadline scanner: it always
// moves the checkout forward, never twice.
package saga

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Checkout states.
const (
	StateReserving    = "reserving"
	StateAuthorizing  = "authorizing"
	StateConfirming   = "confirming"
	StateConfirmed    = "confirmed"
	StateCompensating = "compensating"
	StateCancelled    = "cancelled"
	StateCompleted    = "completed"
	// StateParked: the deadline scanner gave up on the checkout after
	// Config.MaxAttempts failed attempts; the reason holds the last error.
	// Nothing advances it any more: an operator decides.
	StateParked = "parked"
)

// Reason codes: the first word of a checkout's (and its order's) reason.
const (
	ReasonOutOfStock        = "out_of_stock"
	ReasonPaymentDeclined   = "payment_declined"
	ReasonPaymentTimeout    = "payment_timeout"
	ReasonCustomerCancelled = "customer_cancelled"
	ReasonParked            = "parked"
)

// Step names, in the step log, the metrics and the fault hook.
const (
	StepStart            = "start"
	StepReserveInventory = "reserve_inventory"
	StepAuthorizePayment = "authorize_payment"
	StepConfirmOrder     = "confirm_order"
	StepVoidPayment      = "void_payment"
	StepReleaseInventory = "release_inventory"
	StepCancelOrder      = "cancel_order"
	StepCapturePayment   = "capture_payment"
	StepCommitInventory  = "commit_inventory"
)

// DueStates are the states whose deadline the scanner acts on.
var DueStates = []string{StateReserving, StateAuthorizing, StateConfirming, StateCompensating}

// Metrics records checkout outcomes.
type Metrics interface {
	// CheckoutFinished: outcome is "confirmed" or "cancelled" (with a reason code).
	CheckoutFinished(outcome, reason string, elapsed time.Duration)
	// Compensated counts a compensation step done.
	Compensated(step string)
	// CheckoutParked counts a checkout the deadline scanner gave up on,
	// by the state it could not leave.
	CheckoutParked(state string)
	// StepFinished records one step once it is saved (every step but the
	// start, compensations included): its outcome ("done" or "failed") and
	// the time from the step before it to this one, as the checkout's log
	// says (so a step retried by the deadline scanner counts its waits).
	// ctx is the Advance's (its trace may become the exemplar).
	StepFinished(ctx context.Context, step, outcome string, elapsed time.Duration)
	// OrderConfirmed records, once per order, the time from its placement
	// (the order.placed event's time) to the saved confirmation.
	OrderConfirmed(ctx context.Context, sincePlaced time.Duration)
	// Batched records a batch of units (Deps.Batches) by how many units it
	// held and whether it committed (else its units ran alone).
	Batched(units int, committed bool)
}

// NopMetrics records nothing.
type NopMetrics struct{}

func (NopMetrics) CheckoutFinished(string, string, time.Duration)              {}
func (NopMetrics) Compensated(string)                                          {}
func (NopMetrics) CheckoutParked(string)                                       {}
func (NopMetrics) StepFinished(context.Context, string, string, time.Duration) {}
func (NopMetrics) OrderConfirmed(context.Context, time.Duration)               {}
func (NopMetrics) Batched(int, bool)                                           {}

// Config tunes the saga.
type Config struct {
	// Deadline is how long payment may take from the reservation of the
	// order's stock (and, before it, how long a started checkout may wait
	// before the deadline scanner runs it). Default 30s.
	Deadline time.Duration
	// ReplayTimeout bounds the wait for a late authorization's outcome when
	// compensating a timed-out payment. Default 30s.
	ReplayTimeout time.Duration
	// MaxAttempts is how many failed attempts of the deadline scanner a
	// checkout gets before it is parked (StateParked). Default 10.
	MaxAttempts int
	// RetryBackoff is the wait after a checkout's first failed attempt; it
	// doubles with each further failure, up to MaxRetryBackoff. Defaults
	// 1s and 5m.
	RetryBackoff, MaxRetryBackoff time.Duration
	// AfterStep, if set, is called after each step's state is saved. The
	// binary uses it for its test-only crash injection.
	AfterStep func(step string)
	// BatchSize is the most units one batch commits, with Deps.Batches.
	// Default DefaultBatchSize.
	BatchSize int
	// HandOff is the most started checkouts Start hands to this process's
	// runner while the runner is busy (see Attach); beyond it, they wait
	// in the database for a claim. Default DefaultHandOff.
	HandOff int
}

// Deps are the saga's collaborators.
type Deps struct {
	Orders    *repository.Orders
	Stocks    *repository.Stocks
	Payments  *repository.Payments
	Checkouts ports.CheckoutStore
	// Tx runs each unit of steps in one transaction of the database that
	// holds the events and the checkouts.
	Tx      ports.Transactor
	Gateway ports.PaymentGateway
	Clock   ports.Clock
	Metrics Metrics
	// Batches, when set, commits the units of concurrent Advances together
	// (see Batches); Orders, Stocks and Payments must then be built on its
	// Events. Nil: each unit commits alone.
	Batches *Batches
}

// Checkout is the process manager.
type Checkout struct {
	cfg Config
	d   Deps
	// started is signalled (without blocking) when Start started a
	// checkout: the runner's loop need not wait for its next poll.
	started chan struct{}
	// handOff holds the checkouts Start leased to this process's runner.
	handOff *handOff
	// origins are the trace and correlation of the checkouts Start
	// started, for RunStarted.
	origins *repository.Bounded[origin]
}

// New panics on missing dependencies.
func New(cfg Config, d Deps) *Checkout {
	if d.Orders == nil || d.Stocks == nil || d.Payments == nil || d.Checkouts == nil || d.Tx == nil || d.Gateway == nil || d.Clock == nil {
		panic("saga: missing dependency")
	}
	if d.Metrics == nil {
		d.Metrics = NopMetrics{}
	}
	if cfg.Deadline <= 0 {
		cfg.Deadline = 30 * time.Second
	}
	if cfg.ReplayTimeout <= 0 {
		cfg.ReplayTimeout = 30 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = time.Second
	}
	if cfg.MaxRetryBackoff < cfg.RetryBackoff {
		cfg.MaxRetryBackoff = max(5*time.Minute, cfg.RetryBackoff)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.HandOff <= 0 {
		cfg.HandOff = DefaultHandOff
	}
	if d.Batches != nil {
		d.Batches.checkouts = d.Checkouts
		d.Checkouts = batchCheckouts{d.Checkouts}
	}
	return &Checkout{cfg: cfg, d: d, started: make(chan struct{}, 1), handOff: &handOff{limit: cfg.HandOff},
		origins: repository.NewBounded[origin](originsKept)}
}

// maxSteps bounds one Advance: a checkout has fewer transitions than this.
const maxSteps = 32

// Advance moves orderID's checkout forward as far as it can go now: it
// starts the checkout of a placed order, runs the next steps, and returns
// when the checkout waits for something outside (shipping) or is finished.
// An error is transient (a store or the gateway unavailable): call again.
//
// The steps run in units of work (Deps.Tx): each unit loads the checkout
// and the order, and runs steps until one needs the payment provider. Every
// step's effect in the database (a reservation, a payment or order event)
// commits in the same transaction as the checkout state that records it,
// and the checkout is saved with a version check, so a step's effect is
// stored exactly once: two Advances of one order (redeliveries, the
// deadline scanner, another process) cannot both commit it, and a crash
// leaves either the step and its record or neither. Calls to the provider
// happen between units, never inside one: the unit before records that the
// call is requested, the call carries an idempotency key, and the unit after
// records the answer.
//
// Advance is a span ("checkout.advance"), and so is each provider call
// ("checkout.call <step>"), around the gateway's own span.
func (s *Checkout) Advance(ctx context.Context, orderID string) (err error) {
	return s.advance(ctx, orderID, nil)
}

// advance is Advance; its first unit starts from row when it is not nil
// (advance.last).
func (s *Checkout) advance(ctx context.Context, orderID string, row *ports.Checkout) (err error) {
	ctx, span := tracer().Start(ctx, "checkout.advance", trace.WithAttributes(attribute.String("orderflow.order.id", orderID)))
	defer func() { endSpan(span, err) }()
	a := &advance{Checkout: s, answers: map[string]answer{}, last: row}
	for range maxSteps {
		need, err := a.commit(ctx, orderID)
		if errors.Is(err, ports.ErrConcurrency) {
			continue // another Advance moved it: reload and go on from there
		}
		if err != nil && !a.startAlone {
			// The first steps may never succeed (bad data the poison
			// queue parks): the start commits alone, so that the deadline
			// scanner sees the checkout and parks it in the end. (On a
			// checkout already started, this unit changes nothing.)
			a.startAlone = true
			_, _ = a.commit(ctx, orderID) // err is what the caller must see
			return err
		}
		if err != nil || need == nil {
			return err
		}
		a.answers[need.key] = a.call(ctx, need)
	}
	return apperr.New(apperr.Unavailable, "checkout %s did not settle in %d steps", orderID, maxSteps)
}

// call makes the provider call need asks for, in a span of its own.
func (a *advance) call(ctx context.Context, need *needCall) answer {
	ctx, span := tracer().Start(ctx, "checkout.call "+need.key, trace.WithAttributes(attribute.String("orderflow.checkout.call", need.key)))
	ans := need.call(ctx)
	if ans.err == nil && ans.auth.ID != "" {
		span.SetAttributes(attribute.Bool("orderflow.payment.approved", ans.auth.Approved))
	}
	endSpan(span, ans.err)
	return ans
}

// tracer is the saga's tracer on OpenTelemetry's global provider (a no-op
// one unless the process turned tracing on).
func tracer() trace.Tracer { return otel.Tracer("github.com/orderflow/orderflow/app/saga") }

func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// start is the first state of the checkout of a placed order, and the
// order; an order that is not placed (or unknown) never starts one (nil).
func (s *Checkout) start(ctx context.Context, orderID string) (*transition, *order.Order, error) {
	o, err := s.d.Orders.Load(ctx, orderID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if o.Status() != order.StatusPlaced {
		return nil, nil, nil
	}
	now := s.d.Clock.Now()
	c := ports.Checkout{OrderID: orderID, State: StateReserving, StartedAt: now,
		DeadlineAt: now.Add(s.cfg.Deadline), UpdatedAt: now, Version: 1,
		Steps: []ports.CheckoutStep{{Step: StepStart, Status: "done", At: now}}}
	return &transition{next: c, step: StepStart}, o, nil
}

// ReasonCode is the code part of a reason ("out_of_stock: A, B" →
// "out_of_stock").
func ReasonCode(reason string) string {
	code, _, _ := strings.Cut(reason, ":")
	return code
}
