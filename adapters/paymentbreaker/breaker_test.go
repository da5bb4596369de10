package paymentbreaker_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/paymentbreaker"
	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
)

// provider is a payment provider double that can suffer an outage: while
// down every call fails like an unreachable provider (or hangs until the
// caller's deadline with slow); while up, "tok_visa" is approved and any
// other token declined.
type provider struct {
	mu    sync.Mutex
	down  bool
	slow  bool
	calls int
}

var errUnavailable = errors.New("provider answered 503 service unavailable")

func (p *provider) set(down, slow bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down, p.slow = down, slow
}

func (p *provider) call(ctx context.Context) error {
	p.mu.Lock()
	p.calls++
	down, slow := p.down, p.slow
	p.mu.Unlock()
	switch {
	case slow:
		<-ctx.Done()
		return ctx.Err()
	case down:
		return errUnavailable
	}
	return nil
}

func (p *provider) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

func (p *provider) Authorize(ctx context.Context, req ports.AuthorizeRequest) (ports.Authorization, error) {
	if err := p.call(ctx); err != nil {
		return ports.Authorization{}, err
	}
	if req.Token != "tok_visa" {
		return ports.Authorization{DeclineCode: "card_declined"}, nil
	}
	return ports.Authorization{ID: "auth_" + req.IdempotencyKey, Approved: true}, nil
}

func (p *provider) Capture(ctx context.Context, _, id string) error {
	if err := p.call(ctx); err != nil {
		return err
	}
	if id == "" {
		return ports.ErrUnknownAuthorization
	}
	return nil
}

func (p *provider) Void(ctx context.Context, _, id string) error {
	if err := p.call(ctx); err != nil {
		return err
	}
	if id == "captured" {
		return ports.ErrAuthorizationState
	}
	return nil
}

type fixture struct {
	p   *provider
	g   *paymentbreaker.Gateway
	reg *prometheus.Registry
}

func newFixture(t *testing.T, failures int, openFor time.Duration) fixture {
	t.Helper()
	reg := prometheus.NewRegistry()
	p := &provider{}
	g, err := paymentbreaker.New(paymentbreaker.Config{Name: "sandbox", Failures: failures, OpenFor: openFor, Registerer: reg}, p)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{p: p, g: g, reg: reg}
}

// state reads orderflow_payment_circuit_state{gateway="sandbox"}.
func (f fixture) state(t *testing.T) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "orderflow_payment_circuit_state" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("orderflow_payment_circuit_state not registered")
	return -1
}

func (f fixture) changes(t *testing.T, from, to string) float64 {
	t.Helper()
	return gatherCounter(t, f.reg, from, to)
}

func gatherCounter(t *testing.T, reg *prometheus.Registry, from, to string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "orderflow_payment_circuit_state_changes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["gateway"] == "sandbox" && labels["from"] == from && labels["to"] == to {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func authorize(g ports.PaymentGateway, token string, i int) (ports.Authorization, error) {
	return g.Authorize(context.Background(), ports.AuthorizeRequest{
		IdempotencyKey: fmt.Sprintf("order-%d:authorize_payment", i), Token: token, Amount: 1000, Currency: "EUR"})
}

// waitState waits, with a deadline, until the gauge reads want.
func waitState(t *testing.T, f fixture, want float64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.state(t) != want {
		if time.Now().After(deadline) {
			t.Fatalf("circuit state: got %v, want %v", f.state(t), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
