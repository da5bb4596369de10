package saga_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/ports"
)

// Tokens of flakyGateway.
const (
	tokenDown = "tok_test_down" // every call fails at once
	tokenHang = "tok_test_hang" // the first call hangs until its context ends, later ones decline
)

// flakyGateway is a payment provider that is down for some orders.
type flakyGateway struct {
	ports.PaymentGateway
	hung atomic.Bool
}

func (g *flakyGateway) Authorize(ctx context.Context, req ports.AuthorizeRequest) (ports.Authorization, error) {
	switch req.Token {
	case tokenDown:
		return ports.Authorization{}, errors.New("provider down")
	case tokenHang:
		if g.hung.CompareAndSwap(false, true) {
			<-ctx.Done()
			return ports.Authorization{}, ctx.Err()
		}
		return ports.Authorization{Approved: false, DeclineCode: "expired"}, nil
	}
	return g.PaymentGateway.Authorize(ctx, req)
}

// offsetClock is the machine's clock moved forward by the test.
type offsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset).UTC()
}

func (c *offsetClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

type parkedMetrics struct {
	saga.NopMetrics
	parked atomic.Int64
}

func (m *parkedMetrics) CheckoutParked(string) { m.parked.Add(1) }

// Checkouts that can never advance back off one by one and do not hold up
// a later deadline: its payment timeout fires within a few scans, though
// the scan takes fewer checkouts than there are failing ones. After
// MaxAttempts failed attempts each failing checkout is parked, with the
// last error as its reason, and counted.
func TestFailingCheckoutsBackOffAndPark(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		const failing, limit, maxAttempts = 5, 3, 4
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		clock := &offsetClock{}
		gw := &flakyGateway{PaymentGateway: e.gateway}
		metrics := &parkedMetrics{}
		s := saga.New(saga.Config{Deadline: time.Minute, ReplayTimeout: time.Second, MaxAttempts: maxAttempts,
			RetryBackoff: time.Second, MaxRetryBackoff: 10 * time.Second},
			saga.Deps{Orders: e.orders, Stocks: e.stocks, Payments: e.payments, Checkouts: e.checkouts, Tx: st.tx,
				Gateway: gw, Clock: clock, Metrics: metrics})
		e.stock(t, "A", 100)

		var bad []string
		for range failing {
			id := e.place(t, tokenDown, item("A", 1))
			if err := s.Advance(t.Context(), id); err == nil {
				t.Fatalf("advance %s with the provider down: no error", id)
			}
			bad = append(bad, id)
		}
		clock.advance(time.Second)
		// The later order waits for its payment: the provider never answers
		// this request.
		later := e.place(t, tokenHang, item("A", 1))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Advance(ctx, later) }()
		waitFor(t, func() bool {
			c, err := e.checkouts.Get(t.Context(), later)
			return err == nil && hasStatus(c, saga.StepAuthorizePayment, "requested")
		})
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Advance cancelled during the provider call: %v, want context.Canceled", err)
		}

		// Every deadline has passed; the failing ones are first in line.
		fired := false
		for scan := 1; scan <= 5 && !fired; scan++ {
			clock.advance(time.Minute)
			_, _ = s.AdvanceDue(t.Context(), limit)
			c, err := e.checkouts.Get(t.Context(), later)
			if err != nil {
				t.Fatal(err)
			}
			fired = c.State == saga.StateCancelled
		}
		if !fired {
			t.Fatalf("the later checkout's payment timeout did not fire in 5 scans of %d", limit)
		}
		e.expect(t, later, saga.StateCancelled, order.StatusCancelled, saga.ReasonPaymentTimeout)

		for scan := 0; scan < 4*maxAttempts; scan++ {
			clock.advance(time.Hour)
			_, _ = s.AdvanceDue(t.Context(), limit)
		}
		for _, id := range bad {
			c, err := e.checkouts.Get(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if c.State != saga.StateParked || c.Attempts != maxAttempts || !strings.Contains(c.Reason, "provider down") {
				t.Fatalf("failing checkout %s: state %s, attempts %d, reason %q; want parked after %d attempts",
					id, c.State, c.Attempts, c.Reason, maxAttempts)
			}
			o, err := e.orders.Load(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status() != order.StatusPlaced {
				t.Fatalf("order of a parked checkout is %s, want it left for an operator", o.Status())
			}
		}
		if n := metrics.parked.Load(); n != failing {
			t.Fatalf("parked metric %d, want %d", n, failing)
		}
		if n, err := s.AdvanceDue(t.Context(), limit); n != 0 || err != nil {
			t.Fatalf("scan after parking: %d due, %v", n, err)
		}
	})
}

func hasStatus(c ports.Checkout, step, status string) bool {
	for _, s := range c.Steps {
		if s.Step == step && s.Status == status {
			return true
		}
	}
	return false
}
