// Package router builds the one Watermill router of the service: the outbox
// forwarder, the event handlers and their middleware, and router metrics.
package router

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/projection"
	msghandlers "github.com/orderflow/orderflow/handlers/message"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is what the router wires together.
type Config struct {
	// Broker carries events between the forwarder and the handlers.
	Broker Broker
	// Outbox subscribes to OutboxTopic in the event store's database.
	Outbox message.Subscriber
	// OrderSummary is the order_summary projection.
	OrderSummary *projection.OrderSummary
	// Registry receives the router's Prometheus metrics.
	Registry prometheus.Registerer
	Logger   *slog.Logger
	// CloseTimeout bounds how long Close waits for handlers in flight.
	CloseTimeout time.Duration
	// Retry is the handler retry policy for transient errors.
	Retry middleware.Retry
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = 30 * time.Second
	}
	if c.Retry.MaxRetries == 0 {
		c.Retry = middleware.Retry{
			MaxRetries:          5,
			InitialInterval:     100 * time.Millisecond,
			MaxInterval:         5 * time.Second,
			Multiplier:          2,
			MaxElapsedTime:      30 * time.Second,
			RandomizationFactor: 0.3,
			ResetContextOnRetry: true,
		}
	}
}

// Validate reports missing parts.
func (c *Config) Validate() error {
	var errs []error
	if c.Broker.Publisher == nil || c.Broker.Subscriber == nil {
		errs = append(errs, errors.New("router: broker publisher and subscriber factory are required"))
	}
	if c.Outbox == nil {
		errs = append(errs, errors.New("router: outbox subscriber is required"))
	}
	if c.OrderSummary == nil {
		errs = append(errs, errors.New("router: order summary projection is required"))
	}
	if c.Registry == nil {
		errs = append(errs, errors.New("router: prometheus registry is required"))
	}
	return errors.Join(errs...)
}

// New builds the router. Run it with Run(ctx); Close drains handlers in
// flight (up to CloseTimeout) and closes every subscriber it was given.
//
// Middleware, outermost first (Watermill runs the first added outermost):
// recoverer (a panic becomes an error), correlation (the correlation id is
// copied onto produced messages), poison queue (permanent errors, i.e.
// apperr.Invalid, are parked on PoisonTopic with the reason and acked),
// retry (transient errors are retried with exponential backoff and jitter;
// when retries run out the message is nacked and redelivered by the broker).
func New(cfg Config) (*message.Router, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := watermill.NewSlogLogger(cfg.Logger)
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, logger)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	poison, err := middleware.PoisonQueueWithFilter(cfg.Broker.Publisher, PoisonTopic, isPermanent)
	if err != nil {
		return nil, fmt.Errorf("router: poison queue: %w", err)
	}
	retry := cfg.Retry
	retry.Logger = logger
	retry.ShouldRetry = func(p middleware.RetryParams) bool { return !isPermanent(p.Err) }
	r.AddMiddleware(middleware.Recoverer, middleware.CorrelationID, poison, retry.Middleware)

	if _, err := forwarder.NewForwarder(cfg.Outbox, cfg.Broker.Publisher, logger, forwarder.Config{
		ForwarderTopic: OutboxTopic,
		Router:         r,
		CloseTimeout:   cfg.CloseTimeout,
	}); err != nil {
		return nil, fmt.Errorf("router: forwarder: %w", err)
	}

	sub, err := cfg.Broker.Subscriber(HandlerOrderSummary)
	if err != nil {
		return nil, fmt.Errorf("router: subscriber for %s: %w", HandlerOrderSummary, err)
	}
	if err := initializeSubscription(sub, EventTopic("order")); err != nil {
		return nil, fmt.Errorf("router: initialize subscription of %s: %w", HandlerOrderSummary, err)
	}
	r.AddConsumerHandler(HandlerOrderSummary, EventTopic("order"), sub, msghandlers.Events(cfg.OrderSummary))

	metrics.NewPrometheusMetricsBuilder(cfg.Registry, "orderflow", "router").AddPrometheusRouterMetrics(r)
	return r, nil
}

// isPermanent reports errors that no retry can fix.
func isPermanent(err error) bool {
	return apperr.Is(err, apperr.Invalid)
}
