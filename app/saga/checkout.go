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
	"fmt"
	"slices"
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
}

// NopMetrics records nothing.
type NopMetrics struct{}

func (NopMetrics) CheckoutFinished(string, string, time.Duration)              {}
func (NopMetrics) Compensated(string)                                          {}
func (NopMetrics) CheckoutParked(string)                                       {}
func (NopMetrics) StepFinished(context.Context, string, string, time.Duration) {}
func (NopMetrics) OrderConfirmed(context.Context, time.Duration)               {}

// Config tunes the saga.
type Config struct {
	// Deadline is how long payment may take from the start of checkout.
	// Default 30s.
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
}

// Checkout is the process manager.
type Checkout struct {
	cfg Config
	d   Deps
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
	return &Checkout{cfg: cfg, d: d}
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
	ctx, span := tracer().Start(ctx, "checkout.advance", trace.WithAttributes(attribute.String("orderflow.order.id", orderID)))
	defer func() { endSpan(span, err) }()
	a := &advance{Checkout: s, answers: map[string]answer{}}
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

// advance is one call of Advance: the answers of the provider calls it made.
type advance struct {
	*Checkout
	answers map[string]answer
	// startAlone makes a unit that starts the checkout commit the start
	// without running a step.
	startAlone bool
	// last is the checkout as this Advance's previous unit committed it
	// (read or saved), or nil: the next unit starts from it instead of
	// reading the row again. Were it moved meanwhile (another Advance, the
	// deadline scanner), the unit's save fails its version check, its
	// effects roll back, and the next unit reads the row.
	last *ports.Checkout
}

// commit runs one unit of orderID's checkout in its own transaction and,
// once it committed, acts on the steps it saved (Checkout.saved).
func (a *advance) commit(ctx context.Context, orderID string) (*needCall, error) {
	var done []*transition
	var need *needCall
	var last *ports.Checkout
	err := a.d.Tx.InTx(ctx, func(ctx context.Context) (err error) {
		done, need, last, err = a.unit(ctx, orderID)
		return err
	})
	a.last = last // nil after a failed unit: the next one reads the row
	if err != nil {
		a.last = nil
		return nil, err
	}
	for _, t := range done {
		a.saved(ctx, t)
	}
	return need, nil
}

// answer is the outcome of one provider call.
type answer struct {
	auth ports.Authorization
	err  error
}

// needCall is returned by a step that needs the answer of a provider call
// this Advance has not made yet: Advance commits what the unit did so far,
// makes the call outside any transaction and runs the step again.
type needCall struct {
	key  string
	call func(ctx context.Context) answer
}

func (n *needCall) Error() string { return "saga: provider call " + n.key + " needed" }

// ask returns the answer of the provider call named key, or a *needCall
// error to make it with call.
func (a *advance) ask(key string, call func(ctx context.Context) answer) answer {
	if ans, ok := a.answers[key]; ok {
		return ans
	}
	return answer{err: &needCall{key: key, call: call}}
}

// unit runs, in one transaction (ctx), the steps of orderID's checkout
// that need nothing from outside, and saves the checkout once after them;
// it stops at the first step that needs a provider answer (returned as
// need), or when there is nothing to do. Nothing is committed if it fails.
//
// It returns the checkout as it leaves it (saved, or as read when it saved
// nothing), for the next unit of the same Advance (advance.last).
func (a *advance) unit(ctx context.Context, orderID string) (done []*transition, need *needCall, last *ports.Checkout, err error) {
	var c ports.Checkout
	if a.last != nil {
		c = *a.last
	} else {
		c, err = a.d.Checkouts.Get(ctx, orderID)
	}
	var o *order.Order
	stored := c.Version // the version the unit's one save expects to replace
	if errors.Is(err, ports.ErrCheckoutNotFound) {
		var t *transition
		if t, o, err = a.start(ctx, orderID); err != nil || t == nil {
			return nil, nil, nil, err
		}
		done, c, stored = append(done, t), t.next, 0
	} else if err != nil {
		return nil, nil, nil, apperr.Dependency(err, "load checkout %s", orderID)
	} else if a.startAlone {
		return nil, nil, nil, nil // started already
	}
	for range maxSteps {
		if a.startAlone {
			break
		}
		if o == nil {
			// Loaded once per unit, and again only after a step changed it:
			// a concurrent change (a customer's cancel) is seen by the next
			// unit, which its own event starts.
			if o, err = a.d.Orders.Load(ctx, orderID); err != nil {
				return nil, nil, nil, err
			}
		}
		t, err := a.step(ctx, c, o)
		if errors.As(err, &need) {
			break
		}
		if err != nil {
			return nil, nil, nil, err
		}
		if t == nil {
			break
		}
		t.logged, t.since = logged(c, t.next)
		done, c = append(done, t), t.next
		switch {
		case t.order != nil:
			o = t.order
		case t.orderChanged:
			o = nil
		}
	}
	if len(done) == 0 {
		return nil, need, &c, nil
	}
	// One save records every step of the unit, with a version check: if
	// another Advance moved the checkout meanwhile, the unit's effects roll
	// back with it.
	c.Version = stored + 1
	c.UpdatedAt = a.d.Clock.Now()
	// It moved: the scanner's count of failures starts again.
	c.Attempts, c.NextAttemptAt = 0, time.Time{}
	if err := a.d.Checkouts.Save(ctx, c); err != nil {
		if errors.Is(err, ports.ErrConcurrency) {
			return nil, nil, nil, err
		}
		return nil, nil, nil, apperr.Dependency(err, "save checkout %s", orderID)
	}
	for _, t := range done {
		t.next.UpdatedAt = c.UpdatedAt // for the metrics' elapsed time
	}
	return done, need, &c, nil
}

// transition is one step's outcome, acted on once it is saved.
type transition struct {
	next         ports.Checkout
	step         string
	compensation bool
	finished     string // "confirmed" or "cancelled" when this step ends checkout
	orderChanged bool   // the step appended to the order's stream
	// order, when set, is the order as the step left it (saved): the unit
	// reads it for its next step instead of loading the stream again (and
	// instead of its own copy, which the step may have changed).
	order    *order.Order
	placedAt time.Time // when finished is "confirmed": the order's placement
	// logged are the records the step added to the checkout's log (Steps
	// and Compensations), since the time of the newest record before them.
	logged []ports.CheckoutStep
	since  time.Time
}

func (s *Checkout) saved(ctx context.Context, t *transition) {
	if t.compensation {
		s.d.Metrics.Compensated(t.step)
	}
	for _, r := range t.logged {
		// "requested" marks the authorization's start (saved before the
		// provider call), not the end of a step: the authorization's
		// duration runs from it to the answer.
		if r.Status != "requested" && !t.since.IsZero() {
			s.d.Metrics.StepFinished(ctx, r.Step, r.Status, r.At.Sub(t.since))
		}
	}
	if t.finished != "" {
		s.d.Metrics.CheckoutFinished(t.finished, ReasonCode(t.next.Reason), t.next.UpdatedAt.Sub(t.next.StartedAt))
	}
	// Here, not where the projection sees order.confirmed: this transition
	// is saved once per order (a concurrent Advance's save fails its
	// version check and its effects roll back), while a consumer sees an
	// event again on every redelivery and every rebuild.
	if t.finished == "confirmed" && !t.placedAt.IsZero() {
		s.d.Metrics.OrderConfirmed(ctx, t.next.UpdatedAt.Sub(t.placedAt))
	}
	if s.cfg.AfterStep != nil {
		s.cfg.AfterStep(t.step)
	}
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

// logged returns the records next added to prev's log (Steps and
// Compensations only grow) and the time of prev's newest record.
func logged(prev, next ports.Checkout) (added []ports.CheckoutStep, since time.Time) {
	for _, r := range slices.Concat(prev.Steps, prev.Compensations) {
		if r.At.After(since) {
			since = r.At
		}
	}
	if len(next.Steps) > len(prev.Steps) {
		added = append(added, next.Steps[len(prev.Steps):]...)
	}
	if len(next.Compensations) > len(prev.Compensations) {
		added = append(added, next.Compensations[len(prev.Compensations):]...)
	}
	return added, since
}

func logStep(c ports.Checkout, step, status, detail string, at time.Time) ports.Checkout {
	c.Steps = append(append([]ports.CheckoutStep(nil), c.Steps...), ports.CheckoutStep{Step: step, Status: status, At: at, Detail: detail})
	return c
}

func logCompensation(c ports.Checkout, step, detail string, at time.Time) ports.Checkout {
	c.Compensations = append(append([]ports.CheckoutStep(nil), c.Compensations...), ports.CheckoutStep{Step: step, Status: "done", At: at, Detail: detail})
	return c
}

func hasStep(steps []ports.CheckoutStep, step, status string) bool {
	for _, s := range steps {
		if s.Step == step && (status == "" || s.Status == status) {
			return true
		}
	}
	return false
}

// compensateFor moves c to compensating with reason.
func compensateFor(c ports.Checkout, reason string) *transition {
	c.State, c.Reason = StateCompensating, reason
	return &transition{next: c, step: "compensate"}
}

func lines(o *order.Order) []string {
	skus := map[string]bool{}
	var out []string
	for _, it := range o.Items() {
		if !skus[it.SKU] {
			skus[it.SKU] = true
			out = append(out, it.SKU)
		}
	}
	return out
}

func key(orderID, step string) string { return fmt.Sprintf("%s:%s", orderID, step) }
