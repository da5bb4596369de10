// Package paymentsandbox is a stand-in for the external payment provider,
// behaving like a provider's test mode. It is the only fake in the system,
// because the provider is the only part outside it; it is selected by
// configuration (--payment-gateway sandbox, the default).
//
// Test tokens:
//
//	tok_visa            approved
//	tok_chargeDeclined  declined with decline code "card_declined"
//	tok_timeout         approved, but only after Config.LateAfter: longer
//	                    than the checkout deadline, so the caller gives up
//	                    and must void the late authorization
//	anything else       declined with "invalid_payment_method"
//
// Every answer takes Config.Latency. Authorizations live in memory for the
// life of the process, like a test-mode account between resets.
package paymentsandbox

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// Test tokens.
const (
	TokenApprove = "tok_visa"
	TokenDecline = "tok_chargeDeclined"
	TokenTimeout = "tok_timeout"
)

// DeclineCode is the code of a TokenDecline decline.
const DeclineCode = "card_declined"

// Config tunes the sandbox.
type Config struct {
	// Latency is how long every call takes.
	Latency time.Duration
	// LateAfter is how long a TokenTimeout authorization takes. Default 60s.
	LateAfter time.Duration
}

// Gateway is the sandbox provider.
type Gateway struct {
	cfg Config

	mu      sync.Mutex
	byKey   map[string]*pending // authorize idempotency key → request
	auths   map[string]string   // authorization id → state
	opsDone map[string]error    // capture/void idempotency key → outcome
}

type pending struct {
	done chan struct{}
	auth ports.Authorization
}

// Authorization states.
const (
	stateAuthorized = "authorized"
	stateCaptured   = "captured"
	stateVoided     = "voided"
)

var _ ports.PaymentGateway = (*Gateway)(nil)

// New returns a sandbox with cfg.
func New(cfg Config) *Gateway {
	if cfg.LateAfter == 0 {
		cfg.LateAfter = time.Minute
	}
	return &Gateway{cfg: cfg, byKey: map[string]*pending{}, auths: map[string]string{}, opsDone: map[string]error{}}
}

// Authorize implements ports.PaymentGateway. The provider processes the
// request on its own time: if ctx ends first, the authorization still
// completes, and a repeated request with the same key returns it.
func (g *Gateway) Authorize(ctx context.Context, req ports.AuthorizeRequest) (ports.Authorization, error) {
	if req.IdempotencyKey == "" {
		return ports.Authorization{}, fmt.Errorf("paymentsandbox: idempotency key required")
	}
	g.mu.Lock()
	p, seen := g.byKey[req.IdempotencyKey]
	if !seen {
		p = &pending{done: make(chan struct{})}
		g.byKey[req.IdempotencyKey] = p
		delay := g.cfg.Latency
		if req.Token == TokenTimeout {
			delay = g.cfg.LateAfter
		}
		time.AfterFunc(delay, func() { g.complete(p, req.Token) })
	}
	g.mu.Unlock()
	select {
	case <-p.done:
		return p.auth, nil
	case <-ctx.Done():
		return ports.Authorization{}, ctx.Err()
	}
}

func (g *Gateway) complete(p *pending, token string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch token {
	case TokenApprove, TokenTimeout:
		p.auth = ports.Authorization{ID: "auth_" + uuid.NewString(), Approved: true}
		g.auths[p.auth.ID] = stateAuthorized
	case TokenDecline:
		p.auth = ports.Authorization{DeclineCode: DeclineCode}
	default:
		p.auth = ports.Authorization{DeclineCode: "invalid_payment_method"}
	}
	close(p.done)
}

// Capture implements ports.PaymentGateway.
func (g *Gateway) Capture(ctx context.Context, key, authorizationID string) error {
	return g.transition(ctx, key, authorizationID, stateCaptured)
}

// Void implements ports.PaymentGateway.
func (g *Gateway) Void(ctx context.Context, key, authorizationID string) error {
	return g.transition(ctx, key, authorizationID, stateVoided)
}

func (g *Gateway) transition(ctx context.Context, key, id, to string) error {
	if err := g.wait(ctx); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err, done := g.opsDone[key]; done && key != "" {
		return err
	}
	err := g.move(id, to)
	if key != "" {
		g.opsDone[key] = err
	}
	return err
}

func (g *Gateway) move(id, to string) error {
	state, ok := g.auths[id]
	switch {
	case !ok:
		return fmt.Errorf("paymentsandbox: %s %q: %w", to, id, ports.ErrUnknownAuthorization)
	case state == to:
		return nil
	case state != stateAuthorized:
		return fmt.Errorf("paymentsandbox: authorization %s is %s, cannot be %s: %w", id, state, to, ports.ErrAuthorizationState)
	}
	g.auths[id] = to
	return nil
}

// wait simulates the provider's latency.
func (g *Gateway) wait(ctx context.Context) error {
	if g.cfg.Latency <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(g.cfg.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
