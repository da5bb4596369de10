package paymentbreaker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/paymentbreaker"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
)

// An outage opens the breaker after N consecutive failures; while open,
// calls fail fast as Unavailable without reaching the provider; after
// OpenFor a half-open probe that succeeds closes it again.
func TestOutageOpensFailsFastAndProbeCloses(t *testing.T) {
	f := newFixture(t, 3, 50*time.Millisecond)
	if got := f.state(t); got != 0 {
		t.Fatalf("initial state %v, want 0 (closed)", got)
	}
	f.p.set(true, false)
	for i := range 3 {
		_, err := authorize(f.g, "tok_visa", i)
		if !errors.Is(err, errUnavailable) {
			t.Fatalf("call %d: got %v, want the provider's error", i, err)
		}
		if errors.Is(err, paymentbreaker.ErrOpen) {
			t.Fatalf("call %d refused by the breaker before %d failures", i, 3)
		}
	}
	if got := f.state(t); got != 2 {
		t.Fatalf("state after 3 failures %v, want 2 (open)", got)
	}
	if got := f.changes(t, "closed", "open"); got != 1 {
		t.Fatalf("closed→open changes %v, want 1", got)
	}

	before := f.p.Calls()
	_, err := authorize(f.g, "tok_visa", 9)
	if !errors.Is(err, paymentbreaker.ErrOpen) || !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("open breaker: got %v, want Unavailable wrapping ErrOpen", err)
	}
	if err := f.g.Capture(context.Background(), "k", "a"); !errors.Is(err, paymentbreaker.ErrOpen) {
		t.Fatalf("open breaker capture: got %v", err)
	}
	if err := f.g.Void(context.Background(), "k", "a"); !errors.Is(err, paymentbreaker.ErrOpen) {
		t.Fatalf("open breaker void: got %v", err)
	}
	if got := f.p.Calls(); got != before {
		t.Fatalf("provider called %d times while open, want 0", got-before)
	}

	f.p.set(false, false)
	waitState(t, f, 1)
	if got := f.changes(t, "open", "half-open"); got != 1 {
		t.Fatalf("open→half-open changes %v, want 1", got)
	}
	auth, err := authorize(f.g, "tok_visa", 10)
	if err != nil || !auth.Approved {
		t.Fatalf("probe: got %+v, %v, want approved", auth, err)
	}
	if got := f.state(t); got != 0 {
		t.Fatalf("state after a successful probe %v, want 0 (closed)", got)
	}
	if got := f.changes(t, "half-open", "closed"); got != 1 {
		t.Fatalf("half-open→closed changes %v, want 1", got)
	}
}

// A failed probe opens the breaker again.
func TestFailedProbeReopens(t *testing.T) {
	f := newFixture(t, 1, 30*time.Millisecond)
	f.p.set(true, false)
	if _, err := authorize(f.g, "tok_visa", 1); !errors.Is(err, errUnavailable) {
		t.Fatalf("got %v", err)
	}
	waitState(t, f, 1)
	if _, err := authorize(f.g, "tok_visa", 2); !errors.Is(err, errUnavailable) {
		t.Fatalf("probe: got %v, want the provider's error", err)
	}
	if got := f.state(t); got != 2 {
		t.Fatalf("state after a failed probe %v, want 2 (open)", got)
	}
	if got := f.changes(t, "half-open", "open"); got != 1 {
		t.Fatalf("half-open→open changes %v, want 1", got)
	}
}

// Timeouts are provider failures: a provider that never answers before the
// caller's deadline opens the breaker.
func TestTimeoutsOpen(t *testing.T) {
	f := newFixture(t, 2, time.Minute)
	f.p.set(false, true)
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		err := f.g.Capture(ctx, "k", "a")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call %d: got %v, want deadline exceeded", i, err)
		}
	}
	if got := f.state(t); got != 2 {
		t.Fatalf("state after 2 timeouts %v, want 2 (open)", got)
	}
}

// Declines and the provider's business errors never trip the breaker, and
// neither does a caller that cancels its own request.
func TestBusinessAnswersNeverTrip(t *testing.T) {
	f := newFixture(t, 2, time.Minute)
	for i := range 10 {
		auth, err := authorize(f.g, "tok_chargeDeclined", i)
		if err != nil || auth.Approved || auth.DeclineCode != "card_declined" {
			t.Fatalf("decline %d: got %+v, %v", i, auth, err)
		}
	}
	for range 5 {
		if err := f.g.Capture(context.Background(), "k", ""); !errors.Is(err, ports.ErrUnknownAuthorization) {
			t.Fatalf("capture of unknown: got %v", err)
		}
		if err := f.g.Void(context.Background(), "k", "captured"); !errors.Is(err, ports.ErrAuthorizationState) {
			t.Fatalf("void of captured: got %v", err)
		}
	}
	f.p.set(false, true)
	for range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := f.g.Void(ctx, "k", "a"); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled void: got %v", err)
		}
	}
	if got := f.state(t); got != 0 {
		t.Fatalf("state after business answers %v, want 0 (closed)", got)
	}
	if got := f.changes(t, "closed", "open"); got != 0 {
		t.Fatalf("closed→open changes %v, want 0", got)
	}
	// A decline between failures resets the count: failures must be
	// consecutive.
	f.p.set(true, false)
	_, _ = authorize(f.g, "tok_visa", 100)
	f.p.set(false, false)
	_, _ = authorize(f.g, "tok_chargeDeclined", 101)
	f.p.set(true, false)
	_, _ = authorize(f.g, "tok_visa", 102)
	if got := f.state(t); got != 0 {
		t.Fatalf("state after non-consecutive failures %v, want 0 (closed)", got)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []paymentbreaker.Config{
		{Registerer: nil, Name: "sandbox"},
		{Registerer: prometheus.NewRegistry(), Name: ""},
		{Registerer: prometheus.NewRegistry(), Name: "sandbox", Failures: -1},
		{Registerer: prometheus.NewRegistry(), Name: "sandbox", OpenFor: -time.Second},
	} {
		if _, err := paymentbreaker.New(cfg, &provider{}); err == nil {
			t.Errorf("New(%+v) accepted an invalid config", cfg)
		}
	}
}
