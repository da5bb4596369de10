// Package paymentbreaker is a circuit breaker around any ports.PaymentGateway
// (github.com/sony/gobreaker). After Config.Failures consecutive provider
// failures it opens: every call fails fast with an apperr.Unavailable error
// wrapping ErrOpen, without reaching the provider, so the router retries the
// message later instead of piling requests on a provider that is down. After
// Config.OpenFor it lets one probe call through (half-open); a success closes
// it, a failure opens it again.
//
// Only provider failures count: errors such as timeouts or an unreachable
// provider. A business answer is a success for the breaker: a declined
// authorization, ports.ErrUnknownAuthorization, ports.ErrAuthorizationState,
// and a call abandoned because the caller's context was cancelled.
//
// Its state is the Prometheus gauge orderflow_payment_circuit_state{gateway}
// (0 closed, 1 half-open, 2 open) and the counter
// orderflow_payment_circuit_state_changes_total{gateway,from,to}.
package paymentbreaker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/defaults"
	"github.com/orderflow/orderflow/internal/tracing"
	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// ErrOpen is wrapped by the errors of calls refused without reaching the
// provider: the breaker is open, or half-open with its probe in flight.
var ErrOpen = errors.New("payment circuit breaker is open")

// Config tunes the breaker.
type Config struct {
	// Name labels the metrics (the gateway's name, e.g. "sandbox"). Required.
	Name string
	// Failures is how many consecutive provider failures open the breaker.
	// Default 5.
	Failures int
	// OpenFor is how long the breaker stays open before it lets a probe
	// through. Default 30s.
	OpenFor time.Duration
	// Registerer receives the metrics. Required.
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	defaults.Set(&c.Failures, 5)
	defaults.Set(&c.OpenFor, 30*time.Second)
}

// Validate reports a configuration the breaker cannot run with.
func (c Config) Validate() error {
	switch {
	case c.Name == "":
		return errors.New("paymentbreaker: Name is required")
	case c.Registerer == nil:
		return errors.New("paymentbreaker: Registerer is required")
	case c.Failures < 1:
		return fmt.Errorf("paymentbreaker: Failures must be at least 1, not %d", c.Failures)
	case c.OpenFor <= 0:
		return fmt.Errorf("paymentbreaker: OpenFor must be positive, not %s", c.OpenFor)
	}
	return nil
}

// Gateway is a ports.PaymentGateway guarded by a circuit breaker.
type Gateway struct {
	next ports.PaymentGateway
	cb   *gobreaker.TwoStepCircuitBreaker
	name string
}

var _ ports.PaymentGateway = (*Gateway)(nil)

// New wraps next and registers the breaker's metrics with cfg.Registerer.
func New(cfg Config, next ports.PaymentGateway) (*Gateway, error) {
	if next == nil {
		panic("paymentbreaker: nil gateway")
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	changes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "orderflow", Name: "payment_circuit_state_changes_total",
		Help:        "Changes of the payment gateway circuit breaker's state (closed, half-open, open).",
		ConstLabels: prometheus.Labels{"gateway": cfg.Name},
	}, []string{"from", "to"})
	g := &Gateway{next: next, name: cfg.Name}
	g.cb = gobreaker.NewTwoStepCircuitBreaker(gobreaker.Settings{
		Name:        cfg.Name,
		MaxRequests: 1,
		Timeout:     cfg.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(cfg.Failures) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			changes.WithLabelValues(from.String(), to.String()).Inc()
		},
	})
	// A gauge read at scrape time: gobreaker moves from open to half-open
	// lazily, when asked, and State asks.
	state := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "orderflow", Name: "payment_circuit_state",
		Help:        "Payment gateway circuit breaker state: 0 closed, 1 half-open, 2 open.",
		ConstLabels: prometheus.Labels{"gateway": cfg.Name},
	}, func() float64 { return float64(g.cb.State()) })
	if err := errors.Join(cfg.Registerer.Register(state), cfg.Registerer.Register(changes)); err != nil {
		return nil, err
	}
	return g, nil
}

// Authorize implements ports.PaymentGateway. A decline is a success.
func (g *Gateway) Authorize(ctx context.Context, req ports.AuthorizeRequest) (auth ports.Authorization, err error) {
	ctx, span := g.start(ctx, "authorize", req.IdempotencyKey)
	defer func() {
		if err == nil {
			span.SetAttributes(attribute.Bool("payment.approved", auth.Approved), attribute.String("payment.decline_code", auth.DeclineCode))
		}
		tracing.End(span, err)
	}()
	done, err := g.allow("authorize")
	if err != nil {
		return ports.Authorization{}, err
	}
	auth, err = g.next.Authorize(ctx, req)
	done(!providerFailure(ctx, err))
	return auth, err
}

// Capture implements ports.PaymentGateway.
func (g *Gateway) Capture(ctx context.Context, idempotencyKey, authorizationID string) (err error) {
	ctx, span := g.start(ctx, "capture", idempotencyKey)
	defer func() { tracing.End(span, err) }()
	done, err := g.allow("capture")
	if err != nil {
		return err
	}
	err = g.next.Capture(ctx, idempotencyKey, authorizationID)
	done(!providerFailure(ctx, err))
	return err
}

// Void implements ports.PaymentGateway.
func (g *Gateway) Void(ctx context.Context, idempotencyKey, authorizationID string) (err error) {
	ctx, span := g.start(ctx, "void", idempotencyKey)
	defer func() { tracing.End(span, err) }()
	done, err := g.allow("void")
	if err != nil {
		return err
	}
	err = g.next.Void(ctx, idempotencyKey, authorizationID)
	done(!providerFailure(ctx, err))
	return err
}

// start starts the span of one provider call ("payment.authorize"), a
// client span whatever the provider is, with the breaker's state as it was
// asked; a call the breaker refuses is a span with that error.
func (g *Gateway) start(ctx context.Context, op, idempotencyKey string) (context.Context, trace.Span) {
	ctx, span := tracing.Start(ctx, "payment."+op, trace.SpanKindClient,
		attribute.String("payment.gateway", g.name), attribute.String("payment.operation", op),
		attribute.String("payment.idempotency_key", idempotencyKey))
	if span.IsRecording() {
		span.SetAttributes(attribute.String("payment.breaker.state", g.cb.State().String()))
	}
	return ctx, span
}

// allow asks the breaker for a call, refusing it as apperr.Unavailable.
func (g *Gateway) allow(op string) (func(success bool), error) {
	done, err := g.cb.Allow()
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return nil, apperr.Wrap(apperr.Unavailable, fmt.Errorf("%w (%w)", ErrOpen, err), "payment provider %s refused: %s", op, g.cb.State())
	}
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err, "payment provider %s", op)
	}
	return done, nil
}

// providerFailure reports whether err says the provider failed, as opposed
// to a business answer or a caller that gave up.
func providerFailure(ctx context.Context, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ports.ErrUnknownAuthorization), errors.Is(err, ports.ErrAuthorizationState):
		return false
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return false
	}
	return true
}
