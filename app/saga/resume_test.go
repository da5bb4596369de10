package saga_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/ports"
)

// switchGateway is a payment provider that is down until the test fixes it.
type switchGateway struct {
	ports.PaymentGateway
	down atomic.Bool
}

func (g *switchGateway) Authorize(ctx context.Context, req ports.AuthorizeRequest) (ports.Authorization, error) {
	if g.down.Load() {
		return ports.Authorization{}, errors.New("provider down")
	}
	return g.PaymentGateway.Authorize(ctx, req)
}

// A checkout parked after its failed attempts records the state it was
// parked in; an operator lists the parked ones and resumes them (one by
// order id, then all the parked ones): each goes back to that state with
// its attempts reset, due at once, a "resume" step naming the operator,
// and the saga moves it on.
func TestParkedCheckoutsAreListedAndResumed(t *testing.T) {
	st := openSQLite(t)
	e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
	clock := &offsetClock{}
	gw := &switchGateway{PaymentGateway: e.gateway}
	gw.down.Store(true)
	s := saga.New(saga.Config{Deadline: time.Minute, ReplayTimeout: time.Second, MaxAttempts: 2,
		RetryBackoff: time.Second, MaxRetryBackoff: time.Second},
		saga.Deps{Orders: e.orders, Stocks: e.stocks, Payments: e.payments, Checkouts: e.checkouts, Tx: st.tx,
			Gateway: gw, Clock: clock})
	e.stock(t, "A", 100)
	first, second := e.place(t, "tok_visa", item("A", 1)), e.place(t, "tok_visa", item("A", 1))
	for _, id := range []string{first, second} {
		if err := s.Advance(t.Context(), id); err == nil {
			t.Fatalf("advance %s with the provider down: no error", id)
		}
	}
	for range 4 {
		clock.advance(time.Hour)
		_, _ = s.AdvanceDue(t.Context(), 10)
	}
	admin := app.NewAdmin(app.AdminDeps{Checkouts: e.checkouts, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	page, err := admin.ListCheckouts.Handle(t.Context(), query.ListCheckouts{State: saga.StateParked})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	parked := map[string]ports.Checkout{}
	for _, c := range page.Items {
		listed = append(listed, c.OrderID)
		parked[c.OrderID] = c
		// Past its payment deadline the checkout compensates, and the
		// provider being down fails that too.
		if c.ResumeState != saga.StateCompensating || !strings.HasPrefix(c.ResumeReason, saga.ReasonPaymentTimeout) {
			t.Fatalf("parked checkout %s records state %q, reason %q; want %s, %s", c.OrderID, c.ResumeState,
				c.ResumeReason, saga.StateCompensating, saga.ReasonPaymentTimeout)
		}
	}
	if want := []string{first, second}; !slices.Equal(listed, want) && !slices.Equal(listed, []string{second, first}) {
		t.Fatalf("parked checkouts listed %v, want %v", listed, want)
	}

	gw.down.Store(false)
	res, err := admin.ResumeCheckouts.Handle(t.Context(), command.ResumeCheckouts{OrderID: first, Operator: "ada"})
	if err != nil || len(res.Checkouts) != 1 || res.Checkouts[0].OrderID != first {
		t.Fatalf("resume %s = %v, %v", first, res, err)
	}
	c, err := e.checkouts.Get(t.Context(), first)
	if err != nil {
		t.Fatal(err)
	}
	last := c.Steps[len(c.Steps)-1]
	if c.State != saga.StateCompensating || c.Reason != parked[first].ResumeReason || c.Attempts != 0 || c.ResumeState != "" ||
		c.NextAttemptAt.After(clock.Now()) ||
		last.Step != saga.StepResume || !strings.Contains(last.Detail, "ada") {
		t.Fatalf("resumed checkout = state %s, attempts %d, resume state %q, next attempt %v, last step %+v",
			c.State, c.Attempts, c.ResumeState, c.NextAttemptAt, last)
	}
	if _, err := admin.ResumeCheckouts.Handle(t.Context(), command.ResumeCheckouts{OrderID: first, Operator: "ada"}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("resuming a checkout that is not parked = %v, want a conflict", err)
	}
	res, err = admin.ResumeCheckouts.Handle(t.Context(), command.ResumeCheckouts{AllParked: true, Operator: "ada"})
	if err != nil || len(res.Checkouts) != 1 || res.Checkouts[0].OrderID != second {
		t.Fatalf("resume all parked = %v, %v; want only %s", res, err, second)
	}
	// Due now, with the provider back: the next scan finishes both
	// compensations (cancelled as timed out, their stock released).
	if n, err := s.AdvanceDue(t.Context(), 10); n != 2 || err != nil {
		t.Fatalf("scan after resuming: %d due, %v", n, err)
	}
	for _, id := range []string{first, second} {
		if c, err := e.checkouts.Get(t.Context(), id); err != nil || c.State != saga.StateCancelled {
			t.Fatalf("checkout %s after the scan: %s, %v; want cancelled", id, c.State, err)
		}
	}
}
