package saga

import (
	"context"
	"errors"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/inventory"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/domain/payment"
	"github.com/orderflow/orderflow/ports"
)

// compensate undoes, one step per call, what the checkout did: void the
// payment (including an authorization that arrived after the deadline),
// release the reservation, cancel the order; then the checkout is cancelled.
func (s *advance) compensate(ctx context.Context, c ports.Checkout, o *order.Order) (*transition, error) {
	now := s.d.Clock.Now()
	reserved := hasStep(c.Steps, StepReserveInventory, "done")
	requested := hasStep(c.Steps, StepAuthorizePayment, "requested")
	declined := hasStep(c.Steps, StepAuthorizePayment, "failed")
	if requested && !declined && !hasStep(c.Compensations, StepVoidPayment, "") {
		authID, err := s.lateAuthorization(ctx, c, o)
		if err != nil {
			return nil, err
		}
		if authID == "" {
			// Nothing was authorized: nothing to void.
			return &transition{next: logCompensation(c, StepVoidPayment, "no authorization", now), step: StepVoidPayment}, nil
		}
		if err := s.settleAt(StepVoidPayment, c.OrderID, func(ctx context.Context, k string) error {
			return s.d.Gateway.Void(ctx, k, authID)
		}); err != nil {
			return nil, err
		}
		if err := s.recordAuthorization(ctx, c.OrderID, authID, o); err != nil {
			return nil, err
		}
		if _, err := s.d.Payments.Update(ctx, c.OrderID, func(p *payment.Payment) error { return p.Void(now) }); err != nil {
			return nil, err
		}
		c.AuthorizationID = authID
		return &transition{next: logCompensation(c, StepVoidPayment, authID, now), step: StepVoidPayment, compensation: true}, nil
	}
	if !hasStep(c.Compensations, StepReleaseInventory, "") {
		// Release whatever the step log says: a reservation appended just
		// before a crash, or by a concurrent Advance, is not logged yet.
		released, err := s.release(ctx, c.OrderID, o)
		if err != nil {
			return nil, err
		}
		if reserved || released {
			return &transition{next: logCompensation(c, StepReleaseInventory, "", now), step: StepReleaseInventory, compensation: true}, nil
		}
	}
	if o.Status() != order.StatusCancelled {
		_, err := s.d.Orders.Update(ctx, c.OrderID, 0, func(o *order.Order) error {
			if o.Status() == order.StatusCancelled {
				return nil
			}
			return o.Cancel(c.Reason, now)
		})
		if err != nil {
			return nil, err
		}
		c = logStep(c, StepCancelOrder, "done", c.Reason, now)
	}
	c.State = StateCancelled
	return &transition{next: c, step: StepCancelOrder, finished: "cancelled", orderChanged: true}, nil
}

// releaseLate releases a reservation appended for a cancelled checkout by
// an Advance that raced its compensation: that Advance had loaded the stock
// before the compensation released (nothing, then) and appended after it.
// The reservation's own event advances the checkout, so it ends up here;
// a checkout holding nothing is left as it is.
func (s *advance) releaseLate(ctx context.Context, c ports.Checkout, o *order.Order) (*transition, error) {
	released, err := s.release(ctx, c.OrderID, o)
	if err != nil || !released {
		return nil, err
	}
	c = logCompensation(c, StepReleaseInventory, "late reservation", s.d.Clock.Now())
	return &transition{next: c, step: StepReleaseInventory, compensation: true}, nil
}

// release releases orderID's reservation on every SKU of o (one atomic
// append) and reports whether any was held. Releasing an order that holds
// nothing appends nothing, so it is safe to call whatever the step log says.
func (s *Checkout) release(ctx context.Context, orderID string, o *order.Order) (bool, error) {
	now := s.d.Clock.Now()
	stocks, err := s.d.Stocks.UpdateMany(ctx, lines(o), func(stocks map[string]*inventory.Stock) error {
		for _, st := range stocks {
			st.Release(orderID, now)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	for _, st := range stocks {
		if len(st.Changes()) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// lateAuthorization returns the id of the checkout's authorization, if one
// exists at the provider: the one recorded, or the outcome of the original
// request, replayed with its idempotency key (it may have completed after
// the deadline).
func (s *advance) lateAuthorization(ctx context.Context, c ports.Checkout, o *order.Order) (string, error) {
	if c.AuthorizationID != "" {
		return c.AuthorizationID, nil
	}
	p, err := s.d.Payments.Load(ctx, c.OrderID)
	if err != nil {
		return "", err
	}
	if p.AuthorizationID() != "" {
		return p.AuthorizationID(), nil
	}
	if p.Status() == payment.StatusDeclined {
		return "", nil
	}
	ans := s.ask(StepAuthorizePayment+"_replay", func(ctx context.Context) answer {
		rctx, cancel := context.WithTimeout(ctx, s.cfg.ReplayTimeout)
		defer cancel()
		auth, err := s.d.Gateway.Authorize(rctx, ports.AuthorizeRequest{
			IdempotencyKey: key(c.OrderID, StepAuthorizePayment), Token: o.PaymentMethod(),
			Amount: o.Total(), Currency: o.Currency()})
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = errNoAnswer
		}
		return answer{auth: auth, err: err}
	})
	auth, err := ans.auth, ans.err
	var need *needCall
	switch {
	case errors.As(err, &need):
		return "", err
	case errors.Is(err, errNoAnswer):
		return "", apperr.Wrap(apperr.Unavailable, err, "payment of %s still pending at the provider", c.OrderID)
	case err != nil:
		return "", apperr.Wrap(apperr.Unavailable, err, "look up payment of %s", c.OrderID)
	}
	if !auth.Approved {
		if _, err := s.d.Payments.Update(ctx, c.OrderID, func(p *payment.Payment) error {
			return p.Decline(auth.DeclineCode, s.d.Clock.Now())
		}); err != nil {
			return "", err
		}
		return "", nil
	}
	return auth.ID, nil
}
