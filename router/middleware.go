package router

import (
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/defaults"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
)

// Reliability is the middleware policy of every route.
type Reliability struct {
	// Retry is the policy for transient errors. Its ShouldRetry and Logger
	// are set by the router.
	Retry middleware.Retry
	// HandlerTimeout bounds one attempt; each retry gets a fresh one.
	HandlerTimeout time.Duration
	// Poison parks permanent failures. When nil they are published to
	// PoisonTopic on the broker instead (not listable).
	Poison ports.PoisonStore
	// Dedup remembers the messages handled by the routes whose effects
	// are outside the database (notifications' webhooks), so that a
	// redelivery does not repeat them; nil turns that off. The other routes
	// are exactly-once by their own transactions and do not use it.
	Dedup ports.DedupStore
	// DedupLease is how long a claim holds a message against other
	// consumers; the router renews it every third of it while the handler
	// runs, so a crashed (or stalled) holder's claim frees itself after it.
	DedupLease time.Duration
	// DedupRetention is how long a handled message is remembered.
	DedupRetention time.Duration
	// MaxFailedDeliveries is how many deliveries (each retried in place by
	// Retry) a message may fail with a transient error before it is parked
	// in the poison queue as a *GaveUpError. Default 8 (about four minutes
	// of backoff with the retry queue's defaults); negative never parks a
	// transient failure.
	MaxFailedDeliveries int
	// Retries is the retry queue (retries.go): a transient failure is set
	// aside in it and acked, so it never holds up the messages behind it,
	// and delivered again with its own backoff (RetryBackoff, doubled per
	// failure up to MaxRetryBackoff), polled every RetryPoll. Nil: the
	// failure nacks the message and the broker redelivers it, holding up
	// its partition or group meanwhile; deliveries are then counted in the
	// process.
	Retries         ports.RetryStore
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	RetryPoll       time.Duration
}

func (c *Reliability) setDefaults() {
	if c.Retry.MaxRetries == 0 && c.Retries != nil {
		// A retry queue takes over long failures: retries in place only
		// ride out a blip, and hold the partition for seconds at most.
		c.Retry = middleware.Retry{
			MaxRetries:          3,
			InitialInterval:     100 * time.Millisecond,
			MaxInterval:         time.Second,
			Multiplier:          2,
			MaxElapsedTime:      3 * time.Second,
			RandomizationFactor: 0.3,
		}
	}
	if c.Retry.MaxRetries == 0 {
		c.Retry = middleware.Retry{
			MaxRetries:          5,
			InitialInterval:     100 * time.Millisecond,
			MaxInterval:         5 * time.Second,
			Multiplier:          2,
			MaxElapsedTime:      30 * time.Second,
			RandomizationFactor: 0.3,
		}
	}
	c.Retry.ResetContextOnRetry = true
	defaults.Set(&c.HandlerTimeout, 10*time.Second)
	defaults.Set(&c.MaxFailedDeliveries, 8)
	defaults.Set(&c.RetryBackoff, time.Second)
	defaults.Set(&c.MaxRetryBackoff, 5*time.Minute)
	c.MaxRetryBackoff = max(c.MaxRetryBackoff, c.RetryBackoff)
	defaults.Set(&c.RetryPoll, time.Second)
	if c.DedupLease == 0 {
		// A claim outlives the attempt a little; after a crash, the killed
		// process's claims stall their messages for at most this long.
		c.DedupLease = c.HandlerTimeout + 2*time.Second
	}
	defaults.Set(&c.DedupRetention, 7*24*time.Hour)
}

// IsPermanent reports errors that no retry can fix: an undecodable payload
// or unknown event type (apperr.Invalid), an unknown aggregate
// (apperr.NotFound), a rule the input breaks, missing rights; and a
// transient error the route gave up on (*GaveUpError). Everything else
// (apperr.Unavailable, apperr.Conflict, plain errors, timeouts) is
// transient.
func IsPermanent(err error) bool {
	switch apperr.CodeOf(err) {
	case apperr.Invalid, apperr.NotFound, apperr.Unauthorized, apperr.PreconditionFailed:
		return true
	}
	return isGaveUp(err)
}

// routeMiddlewares is the chain of one route as ReplayTopic and the retry
// queue deliver to it: the chain of middlewares without a redelivery
// policy (the caller has its own), and deduplication for a route with an
// inbox.
func routeMiddlewares(inbox bool, cfg Reliability, pub message.Publisher, reg prometheus.Registerer, logger watermill.LoggerAdapter) ([]message.HandlerMiddleware, error) {
	m, err := newReliabilityMetrics(reg)
	if err != nil {
		return nil, err
	}
	return m.routeMiddlewares(inbox, cfg, pub, logger, deliverOnce)
}

// routeMiddlewares is the chain of one route with policy p.
func (m *reliabilityMetrics) routeMiddlewares(inbox bool, cfg Reliability, pub message.Publisher, logger watermill.LoggerAdapter, p policy) ([]message.HandlerMiddleware, error) {
	chain, err := m.middlewares(cfg, pub, logger, p)
	if err != nil {
		return nil, err
	}
	if d := m.dedup(cfg, logger); inbox && d != nil {
		chain = append(chain, d)
	}
	return chain, nil
}

// poisonPublisher is where permanent failures go: the PoisonStore, or
// PoisonTopic on the broker when there is none; both count them.
func (m *reliabilityMetrics) poisonPublisher(cfg Reliability, pub message.Publisher) message.Publisher {
	if cfg.Poison != nil {
		return &PoisonPublisher{Store: cfg.Poison, poisoned: m.poisoned}
	}
	return &countingPublisher{Publisher: pub, poisoned: m.poisoned}
}

// middlewares returns the chain of every route, outermost first (Watermill
// runs the first added outermost):
//
//  0. the delivery's span (trace.go), a child of the trace context the
//     message carries; traceOutcome (just inside the poison queue) and
//     traceAttempt (just inside retry) record on it what happened;
//  1. correlation id: copied onto every message a handler produces;
//  2. recoverer: a panic becomes an error (transient: retried, then nacked);
//  3. poison queue: a permanent error parks the message with its reason,
//     handler, topic and first-failure time, and acks it, so the partition
//     keeps flowing; any other error passes through and nacks;
//  4. redelivery policy: with a retry queue (Reliability.Retries), a
//     transient failure is set aside in it and acked (retries.go);
//     without one, the MaxFailedDeliveries-th failed delivery in a row of
//     a message becomes a *GaveUpError, which the poison queue parks;
//  5. first-failure stamp;
//  6. retry: transient errors with exponential backoff and jitter, bounded
//     in attempts and elapsed time; the context is reset on each attempt;
//  7. timeout of one attempt (inside retry, so every attempt gets its own);
//  8. on the routes with an inbox only (route.inbox: effects outside the
//     database), deduplication by (handler, message id) in a durable store
//     (m.dedup, added per handler by New); it sits inside the poison queue
//     so that a poisoned message is released, not remembered, and a
//     requeued copy is processed;
//  9. (the Prometheus handler metrics, added last by New, innermost).
func (m *reliabilityMetrics) middlewares(cfg Reliability, pub message.Publisher, logger watermill.LoggerAdapter, p policy) ([]message.HandlerMiddleware, error) {
	cfg.setDefaults()
	poisonPub := m.poisonPublisher(cfg, pub)
	poison, err := middleware.PoisonQueueWithFilter(poisonPub, PoisonTopic, IsPermanent)
	if err != nil {
		return nil, fmt.Errorf("router: poison queue: %w", err)
	}
	retry := cfg.Retry
	retry.Logger = logger
	retry.ShouldRetry = func(p middleware.RetryParams) bool { return !IsPermanent(p.Err) }
	chain := []message.HandlerMiddleware{traceConsume, middleware.CorrelationID, middleware.Recoverer, poison, traceOutcome}
	switch {
	case p == deliverOnce:
	case cfg.Retries != nil:
		chain = append(chain, m.setAside(cfg, logger))
	default:
		chain = append(chain, giveUpAfter(cfg.MaxFailedDeliveries))
	}
	chain = append(chain, stampFirstFailure, retry.Middleware, traceAttempt, middleware.Timeout(cfg.HandlerTimeout))
	return chain, nil
}

// policy says what the chain does with a delivery that fails for good.
type policy int

const (
	// redeliver: the router's own deliveries, set aside in the retry queue
	// or redelivered by the broker.
	redeliver policy = iota
	// deliverOnce: a delivery whose caller decides (ReplayTopic stops, the
	// retrier reschedules).
	deliverOnce
)

// dedup is the deduplication middleware of the routes with an inbox, nil
// without a Dedup store.
func (m *reliabilityMetrics) dedup(cfg Reliability, logger watermill.LoggerAdapter) message.HandlerMiddleware {
	cfg.setDefaults()
	if cfg.Dedup == nil {
		return nil
	}
	return dedup(cfg.Dedup, cfg.DedupLease, cfg.DedupRetention, m, logger)
}

// stampFirstFailure records when the message first failed, once.
func stampFirstFailure(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err != nil && msg.Metadata.Get(eventwire.KeyFirstFailedAt) == "" {
			msg.Metadata.Set(eventwire.KeyFirstFailedAt, time.Now().UTC().Format(time.RFC3339Nano))
		}
		return out, err
	}
}

type reliabilityMetrics struct {
	poisoned      *prometheus.CounterVec
	duplicates    *prometheus.CounterVec
	claimsLost    *prometheus.CounterVec
	setAsideCount *prometheus.CounterVec
	retried       *prometheus.CounterVec
}

func newReliabilityMetrics(reg prometheus.Registerer) (*reliabilityMetrics, error) {
	m := &reliabilityMetrics{
		poisoned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "orderflow", Subsystem: "router", Name: "poisoned_messages_total",
			Help: "Messages parked in the poison queue, by handler.",
		}, []string{"handler_name"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "orderflow", Subsystem: "router", Name: "duplicate_messages_total",
			Help: "Redelivered messages dropped by the deduplication store, by handler.",
		}, []string{"handler_name"}),
		claimsLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "orderflow", Subsystem: "router", Name: "dedup_claims_lost_total",
			Help: "Messages handled successfully after their deduplication claim had passed to another consumer " +
				"(their effects may have run twice), by handler.",
		}, []string{"handler_name"}),
		setAsideCount: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "orderflow", Subsystem: "router", Name: "set_aside_messages_total",
			Help: "Messages set aside in the retry queue after a transient failure (and acked on their topic), by handler.",
		}, []string{"handler_name"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "orderflow", Subsystem: "router", Name: "retried_messages_total",
			Help: "Deliveries from the retry queue, by handler and outcome: handled, rescheduled (failed again) " +
				"or gave_up (parked in the poison queue).",
		}, []string{"handler_name", "outcome"}),
	}
	for _, c := range []prometheus.Collector{m.poisoned, m.duplicates, m.claimsLost, m.setAsideCount, m.retried} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("router metrics: %w", err)
		}
	}
	return m, nil
}
