package saga

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/ports"
)

// The unit of work of one Advance: the steps it runs in one transaction,
// the checkout it saves once after them, and the provider calls made
// between units (requested, then answered).

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
	var err error
	if res, ok := a.batched(ctx, orderID); ok {
		done, need, last = res.done, res.need, res.last
	} else {
		err = a.d.Tx.InTx(ctx, func(ctx context.Context) (err error) {
			done, need, last, err = a.unit(ctx, orderID)
			return err
		})
	}
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

// batched commits the unit in a batch (Deps.Batches), if there are batches;
// ok false: it did not, and runs alone.
func (a *advance) batched(ctx context.Context, orderID string) (unitResult, bool) {
	if a.d.Batches == nil {
		return unitResult{}, false
	}
	return a.d.Batches.run(ctx, a, orderID)
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
	// It moved: the scanner's count of failures starts again. A checkout
	// left in a state that is still on its way (reserving, authorizing,
	// confirming, compensating: the Advance goes on) is leased to this
	// process for ClaimLease, after which the runner claims it again: were
	// the process to die before the Advance ends, another picks it up then
	// (the message that started it may be acked already).
	c.Attempts, c.NextAttemptAt = 0, time.Time{}
	if slices.Contains(DueStates, c.State) {
		c.NextAttemptAt = c.UpdatedAt.Add(ClaimLease)
	}
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
