// Package router builds the one Watermill router of the service: the event
// handlers (routes), their middleware (poison queue, retry, deduplication),
// roles and topics, and router metrics; and ReplayTopic, which feeds a
// topic's stored messages through one route. It knows brokers only as
// broker.Broker values and links no broker client: the brokers are adapters
// under adapters/broker, and the outbox forwarder (package outbox) runs
// beside the router, started and stopped by the composition root.
package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/handlers/eventhandler"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is what the router wires together.
type Config struct {
	// Broker carries events between the forwarder and the handlers.
	Broker broker.Broker
	// OrderSummary is the order_summary projection.
	OrderSummary *projection.OrderSummary
	// Registry receives the router's Prometheus metrics.
	Registry prometheus.Registerer
	Logger   *slog.Logger
	// CloseTimeout bounds how long Close waits for handlers in flight.
	CloseTimeout time.Duration
	// Reliability is the middleware policy of every route (middleware.go).
	Reliability Reliability
	// Roles chooses the handlers: the projections with RoleProjections,
	// the saga and notifications with RoleSaga. Empty: all. OrderSummary is
	// needed only with RoleProjections. (RoleForwarder is the outbox
	// forwarder's, which runs beside the router, not in it.)
	Roles Roles
	// Checkout is the checkout saga; nil runs no saga handlers.
	Checkout eventhandler.Advancer
	// SagaPartitions runs the checkout as this many handlers over the order
	// topic, each in a consumer group of its own
	// (HandlerCheckoutOrders.p<i>of<n>) and advancing only the orders
	// whose partition key hashes to i; the others it acks at once. A
	// consumer group of the Postgres and SQLite brokers is handled one
	// message at a time, so this is how checkouts of different orders run
	// in parallel there; an order's events stay in order, in one group.
	// Kafka partitions the topic itself: 1 (the default) suffices there.
	SagaPartitions int
	// Notifications reacts to order events; nil runs no notifications.
	Notifications eventhandler.EventHandler
	// DuplicateForTests delivers every message to every handler twice
	// (Watermill's middleware.Duplicator), to prove handlers idempotent.
	// Test-only: never set it in production.
	DuplicateForTests bool
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = 30 * time.Second
	}
	if c.SagaPartitions < 1 {
		c.SagaPartitions = 1
	}
	c.Reliability.setDefaults()
}

// Validate reports missing parts.
func (c *Config) Validate() error {
	var errs []error
	if c.Broker.Publisher == nil || c.Broker.Subscriber == nil {
		errs = append(errs, errors.New("router: broker publisher and subscriber factory are required"))
	}
	if c.OrderSummary == nil && c.Roles.Has(RoleProjections) {
		errs = append(errs, errors.New("router: order summary projection is required"))
	}
	if c.Registry == nil {
		errs = append(errs, errors.New("router: prometheus registry is required"))
	}
	return errors.Join(errs...)
}

// New builds the router. Run it with Run(ctx); Close drains handlers in
// flight (each up to CloseTimeout) and closes every subscriber it was given.
//
// Every route gets the middleware chain of middlewares (middleware.go).
func New(cfg Config) (*Router, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := watermill.NewSlogLogger(cfg.Logger)
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, logger)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	rm, err := newReliabilityMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	mw, err := rm.middlewares(cfg.Reliability, cfg.Broker.Publisher, logger, redeliver)
	if err != nil {
		return nil, err
	}
	age, err := newHandlerAge(cfg.Registry)
	if err != nil {
		return nil, err
	}
	// Outermost: a message is in flight from its delivery to its ack or
	// nack, retries included.
	r.AddMiddleware(age.middleware)
	r.AddMiddleware(mw...)
	if cfg.DuplicateForTests {
		r.AddMiddleware(middleware.Duplicator)
	}

	out := &Router{Router: r, poison: rm.poisonPublisher(cfg.Reliability, cfg.Broker.Publisher)}
	if cfg.Reliability.Retries != nil {
		out.retrier, err = newRetrier(cfg.Reliability, routes(cfg), rm, cfg.Broker.Publisher, cfg.Registry, logger)
		if err != nil {
			return nil, err
		}
	}

	for _, rt := range routes(cfg) {
		sub, err := cfg.Broker.Subscriber(rt.name)
		if err != nil {
			return nil, fmt.Errorf("router: subscriber for %s: %w", rt.name, err)
		}
		// Before the forwarder can publish (it starts once the router
		// runs): on AMQP a message published before the group's queue is
		// bound is dropped.
		if err := broker.InitializeSubscription(sub, rt.topic); err != nil {
			return nil, fmt.Errorf("router: initialize subscription of %s: %w", rt.name, err)
		}
		h := r.AddConsumerHandler(rt.name, rt.topic, sub, rt.handler)
		if rt.inbox {
			// Inside the router-wide chain, like the chain's own
			// middleware, and before the metrics added below.
			if d := rm.dedup(cfg.Reliability, logger); d != nil {
				if rt.ignores != nil {
					h.AddMiddleware(skipIgnored(rt.ignores))
				}
				h.AddMiddleware(d)
			}
		}
	}

	if err := addRouterMetrics(r, cfg.Registry); err != nil {
		return nil, err
	}
	return out, nil
}

// Router is the Watermill router of the event handlers. The outbox
// forwarder is not one of its handlers: it runs beside the router (package
// outbox), started once the router runs and stopped before it closes, so
// that its last publishes still find the handlers (the memory broker waits
// for them).
type Router struct {
	*message.Router
	poison  message.Publisher
	retrier *retrier

	mu          sync.Mutex
	stopRetrier context.CancelFunc
	retrierDone chan struct{}
}

// Run runs the router, and the retrier of the retry queue once the router
// runs, until ctx ends or Close.
func (r *Router) Run(ctx context.Context) error {
	if r.retrier != nil {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		r.mu.Lock()
		r.stopRetrier, r.retrierDone = cancel, done
		r.mu.Unlock()
		go func() {
			defer close(done)
			select {
			case <-r.Running():
				r.retrier.run(rctx)
			case <-rctx.Done():
			}
		}()
		defer cancel()
	}
	return r.Router.Run(ctx)
}

// Close stops the retrier, waiting for its deliveries in flight, then
// closes the router (which drains its handlers).
func (r *Router) Close() error {
	r.mu.Lock()
	stop, done := r.stopRetrier, r.retrierDone
	r.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	return r.Router.Close()
}

// PoisonPublisher is where the routes park messages that can never be
// processed: the Reliability.Poison store, or PoisonTopic on the broker
// when there is none. Messages published to it count in
// orderflow_router_poisoned_messages_total by their handler (the
// PoisonedHandlerKey metadata). The outbox forwarder parks the rows it
// cannot forward here too, so the poison queue has them all.
func (r *Router) PoisonPublisher() message.Publisher { return r.poison }

// route is one event handler: its name (also its consumer group), the topic
// it consumes, and its function before middleware. inbox routes get the
// deduplication middleware (Reliability.Dedup): their effects are outside
// the database (webhooks), so only a record of handled messages keeps a
// redelivery from repeating them. The others are exactly-once by
// construction: each effect commits with the record that it was done (the
// order_summary row's version, in its one conditional statement; the
// checkout's state and version, in the unit of work of its steps; the
// notification row's id, when no webhook is configured), so a redelivery
// finds it done.
type route struct {
	name, topic string
	handler     message.NoPublishHandlerFunc
	inbox       bool
	// ignores, when set, names the messages the handler certainly ignores
	// (eventhandler.Selective): an inbox route acks them before the
	// claim, which would cost two writes for nothing.
	ignores func(*message.Message) bool
}

// skipIgnored acks the messages ignores names without calling the rest of
// the chain.
func skipIgnored(ignores func(*message.Message) bool) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			if ignores(msg) {
				return nil, nil
			}
			return h(msg)
		}
	}
}

// storeOnly reports whether h says all its effects are idempotent rows of
// the store's database (eventhandler.StoreOnly): its route needs no inbox.
func storeOnly(h eventhandler.EventHandler) bool {
	s, ok := h.(eventhandler.StoreOnly)
	return ok && s.StoreOnly()
}

// ignoredBy is h's eventhandler.Selective as a message filter, or nil.
func ignoredBy(h eventhandler.EventHandler) func(*message.Message) bool {
	s, ok := h.(eventhandler.Selective)
	if !ok {
		return nil
	}
	return func(msg *message.Message) bool {
		// A message without them is not an event: the handler fails it
		// into the poison queue.
		st, et := msg.Metadata.Get(eventwire.KeyStreamType), msg.Metadata.Get(eventwire.KeyEventType)
		return st != "" && et != "" && s.Ignores(st, et)
	}
}

// routes are the event handlers of the router; replay-topic uses them too.
// Only the routes of the configured roles are returned.
//
// The checkout saga listens to the order topic: a placed order starts a
// checkout, a cancel compensates it, a shipment settles it. Its own effects
// (reservations, payment events, the confirmation) commit with its state,
// so it needs no delivery of them. Notifications are side effects of order
// events and run with the saga.
func routes(cfg Config) []route {
	var rs []route
	if cfg.Roles.Has(RoleProjections) {
		rs = append(rs, route{name: HandlerOrderSummary, topic: EventTopic("order"), handler: eventhandler.Events(cfg.OrderSummary)})
	}
	if cfg.Roles.Has(RoleSaga) && cfg.Checkout != nil {
		checkout, n := eventhandler.Checkout(cfg.Checkout), cfg.SagaPartitions
		if n <= 1 {
			rs = append(rs, route{name: HandlerCheckoutOrders, topic: EventTopic("order"), handler: checkout})
		} else {
			for i := range n {
				rs = append(rs, route{name: PartitionName(HandlerCheckoutOrders, i, n),
					topic: EventTopic("order"), handler: partition(i, n, checkout)})
			}
		}
	}
	if cfg.Roles.Has(RoleSaga) && cfg.Notifications != nil {
		rs = append(rs, route{name: HandlerNotifications, topic: EventTopic("order"),
			handler: eventhandler.Events(cfg.Notifications), inbox: !storeOnly(cfg.Notifications),
			ignores: ignoredBy(cfg.Notifications)})
	}
	return rs
}
