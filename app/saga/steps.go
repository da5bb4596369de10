package saga

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/inventory"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/domain/payment"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// step runs the next step of c and returns the state to save, or nil when
// there is nothing to do now.
//
// Each step is a span, "checkout.step <step>" once it is known which step
// ran (reserve_inventory, authorize_payment, confirm_order,
// capture_payment, ...), "checkout.<state>" when it did nothing or needs a
// provider answer first (an event "provider call needed").
func (s *advance) step(ctx context.Context, c ports.Checkout, o *order.Order) (t *transition, err error) {
	ctx, span := tracer().Start(ctx, "checkout."+c.State, trace.WithAttributes(
		attribute.String("orderflow.order.id", c.OrderID), attribute.String("orderflow.checkout.state", c.State)))
	defer func() {
		var need *needCall
		switch {
		case errors.As(err, &need):
			span.AddEvent("provider call needed", trace.WithAttributes(attribute.String("orderflow.checkout.call", need.key)))
			endSpan(span, nil) // not a failure of the step
			return
		case t != nil:
			span.SetName("checkout.step " + t.step)
			span.SetAttributes(attribute.String("orderflow.checkout.next_state", t.next.State))
			if t.compensation {
				span.SetAttributes(attribute.Bool("orderflow.checkout.compensation", true))
			}
		}
		endSpan(span, err)
	}()
	return s.runStep(ctx, c, o)
}

func (s *advance) runStep(ctx context.Context, c ports.Checkout, o *order.Order) (*transition, error) {
	cancelled := o.Status() == order.StatusCancelled
	switch c.State {
	case StateReserving:
		if cancelled {
			return compensateFor(c, ReasonCustomerCancelled), nil
		}
		return s.reserve(ctx, c, o)
	case StateAuthorizing:
		if cancelled {
			return compensateFor(c, ReasonCustomerCancelled), nil
		}
		return s.authorize(ctx, c, o)
	case StateConfirming:
		if cancelled {
			return compensateFor(c, ReasonCustomerCancelled), nil
		}
		return s.confirm(ctx, c, o)
	case StateConfirmed:
		switch o.Status() {
		case order.StatusCancelled:
			return compensateFor(c, ReasonCustomerCancelled), nil
		case order.StatusShipped, order.StatusDelivered:
			return s.settle(ctx, c, o)
		}
		return nil, nil
	case StateCompensating:
		return s.compensate(ctx, c, o)
	case StateCancelled:
		return s.releaseLate(ctx, c, o)
	}
	return nil, nil // completed
}

// reserve reserves every line of the order or none (one atomic append over
// all its SKU streams).
func (s *advance) reserve(ctx context.Context, c ports.Checkout, o *order.Order) (*transition, error) {
	now := s.d.Clock.Now()
	var wanted []inventory.Line
	for _, it := range o.Items() {
		wanted = append(wanted, inventory.Line{SKU: it.SKU, Quantity: it.Quantity})
	}
	var short []string
	_, err := s.d.Stocks.UpdateMany(ctx, lines(o), func(stocks map[string]*inventory.Stock) error {
		short = inventory.ReserveOrder(stocks, o.ID(), wanted, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(short) > 0 {
		detail := strings.Join(short, ", ")
		c = logStep(c, StepReserveInventory, "failed", "out of stock: "+detail, now)
		return compensateFor(c, limitReason(ReasonOutOfStock+": "+detail)), nil
	}
	c = logStep(c, StepReserveInventory, "done", "", now)
	// The payment's deadline counts from here: a checkout started (Start)
	// and run later, behind others, must not have spent it waiting.
	c.State, c.DeadlineAt = StateAuthorizing, now.Add(s.cfg.Deadline)
	return &transition{next: c, step: StepReserveInventory}, nil
}

// authorize asks the gateway, waiting no later than the checkout deadline.
func (s *advance) authorize(ctx context.Context, c ports.Checkout, o *order.Order) (*transition, error) {
	timedOut := func() *transition {
		c := logStep(c, StepAuthorizePayment, "timed_out", "no answer before the deadline", s.d.Clock.Now())
		return compensateFor(c, ReasonPaymentTimeout)
	}
	if !s.d.Clock.Now().Before(c.DeadlineAt) {
		return timedOut(), nil
	}
	if !hasStep(c.Steps, StepAuthorizePayment, "requested") {
		// Saved before the request, so that compensation knows whether an
		// authorization may exist at the provider.
		c = logStep(c, StepAuthorizePayment, "requested", "", s.d.Clock.Now())
		return &transition{next: c, step: StepAuthorizePayment + "_requested"}, nil
	}
	ans := s.ask(StepAuthorizePayment, func(ctx context.Context) answer {
		actx, cancel := context.WithDeadline(ctx, c.DeadlineAt)
		defer cancel()
		auth, err := s.d.Gateway.Authorize(actx, ports.AuthorizeRequest{
			IdempotencyKey: key(c.OrderID, StepAuthorizePayment), Token: o.PaymentMethod(),
			Amount: o.Total(), Currency: o.Currency()})
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = errNoAnswer // the checkout's deadline, not the caller's
		}
		return answer{auth: auth, err: err}
	})
	auth, err := ans.auth, ans.err
	var need *needCall
	switch {
	case errors.As(err, &need):
		return nil, err
	case errors.Is(err, errNoAnswer):
		return timedOut(), nil
	case err != nil:
		return nil, apperr.Wrap(apperr.Unavailable, err, "authorize payment of %s", c.OrderID)
	}
	now := s.d.Clock.Now()
	if !auth.Approved {
		if _, err := s.d.Payments.UpdateNew(ctx, c.OrderID, func(p *payment.Payment) error {
			return p.Decline(auth.DeclineCode, now)
		}); err != nil {
			return nil, err
		}
		c = logStep(c, StepAuthorizePayment, "failed", "declined: "+auth.DeclineCode, now)
		return compensateFor(c, ReasonPaymentDeclined+": "+auth.DeclineCode), nil
	}
	if err := s.recordAuthorization(ctx, c.OrderID, auth.ID, o); err != nil {
		return nil, err
	}
	c = logStep(c, StepAuthorizePayment, "done", auth.ID, now)
	c.State, c.AuthorizationID = StateConfirming, auth.ID
	return &transition{next: c, step: StepAuthorizePayment}, nil
}

func (s *Checkout) recordAuthorization(ctx context.Context, orderID, authID string, o *order.Order) error {
	// The payment's first event: its stream is read only if it has one.
	_, err := s.d.Payments.UpdateNew(ctx, orderID, func(p *payment.Payment) error {
		return p.Authorize(authID, o.Total(), o.Currency(), s.d.Clock.Now())
	})
	return err
}

// confirm confirms the order. An order already confirmed, shipped or
// delivered was confirmed by an attempt whose checkout save was lost (a
// crash, or a concurrent Advance): the checkout is confirmed, and the next
// step settles a shipped order. An order cancelled meanwhile is compensated.
// It starts from the unit's o (Orders.UpdateFrom: no load), and the unit
// goes on with the order it returns.
func (s *advance) confirm(ctx context.Context, c ports.Checkout, o *order.Order) (*transition, error) {
	now := s.d.Clock.Now()
	var cancelled bool
	var placedAt time.Time
	o, err := s.d.Orders.UpdateFrom(ctx, o, func(o *order.Order) error {
		cancelled, placedAt = o.Status() == order.StatusCancelled, o.PlacedAt()
		if o.Status() != order.StatusPlaced {
			return nil
		}
		return o.Confirm(now)
	})
	if err != nil {
		return nil, err
	}
	if cancelled {
		t := compensateFor(c, ReasonCustomerCancelled)
		t.order = o
		return t, nil
	}
	c = logStep(c, StepConfirmOrder, "done", "", now)
	c.State = StateConfirmed
	return &transition{next: c, step: StepConfirmOrder, finished: "confirmed", orderChanged: true, order: o, placedAt: placedAt}, nil
}

// settle runs the shipping steps: capture the payment, then commit the
// reservation.
func (s *advance) settle(ctx context.Context, c ports.Checkout, o *order.Order) (*transition, error) {
	now := s.d.Clock.Now()
	if !hasStep(c.Steps, StepCapturePayment, "done") {
		if err := s.settleAt(StepCapturePayment, c.OrderID, func(ctx context.Context, k string) error {
			return s.d.Gateway.Capture(ctx, k, c.AuthorizationID)
		}); err != nil {
			return nil, err
		}
		if _, err := s.d.Payments.Update(ctx, c.OrderID, func(p *payment.Payment) error { return p.Capture(now) }); err != nil {
			return nil, err
		}
		return &transition{next: logStep(c, StepCapturePayment, "done", c.AuthorizationID, now), step: StepCapturePayment}, nil
	}
	if err := s.eachStock(ctx, o, func(st *inventory.Stock) { st.Commit(c.OrderID, now) }); err != nil {
		return nil, err
	}
	c = logStep(c, StepCommitInventory, "done", "", now)
	c.State = StateCompleted
	return &transition{next: c, step: StepCommitInventory}, nil
}

// settleAt makes (or has made, in this Advance) the provider call of step
// (capture or void) of orderID's payment, with its idempotency key: nil
// once it succeeded, a *needCall to make it, or apperr.Unavailable.
func (s *advance) settleAt(step, orderID string, call func(ctx context.Context, idempotencyKey string) error) error {
	err := s.ask(step, func(ctx context.Context) answer { return answer{err: call(ctx, key(orderID, step))} }).err
	var need *needCall
	if err == nil || errors.As(err, &need) {
		return err
	}
	return apperr.Wrap(apperr.Unavailable, err, "%s of %s", step, orderID)
}

// eachStock runs fn on the stock of every SKU of o, all in one UpdateMany
// (one transaction across the SKU streams).
func (s *Checkout) eachStock(ctx context.Context, o *order.Order, fn func(*inventory.Stock)) error {
	_, err := s.d.Stocks.UpdateMany(ctx, lines(o), func(stocks map[string]*inventory.Stock) error {
		for _, st := range stocks {
			fn(st)
		}
		return nil
	})
	return err
}

// errNoAnswer: the provider did not answer an authorization before the
// time the saga gives it.
var errNoAnswer = errors.New("no answer from the payment provider in time")

// maxReason is the longest cancellation reason an order accepts.
const maxReason = 500

// limitReason shortens a reason naming many SKUs to what an order accepts.
func limitReason(r string) string {
	runes := []rune(r)
	if len(runes) <= maxReason {
		return r
	}
	return string(runes[:maxReason-3]) + "..."
}
