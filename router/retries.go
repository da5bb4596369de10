package router

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/tick"
	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
)

// The retry queue (Reliability.Retries): a message a handler fails with a
// transient error, once its short retries in place are spent, is set aside
// in a ports.RetryStore and acknowledged on its topic, so the messages
// behind it in its partition or consumer group flow on at once. The
// retrier delivers it to the same handler again when due, through the same
// middleware (poison queue, retries in place, timeout, deduplication),
// backing off per message: RetryBackoff after the first failed delivery,
// doubled per further failure up to MaxRetryBackoff, with ±20% jitter. The
// MaxFailedDeliveries-th failed delivery parks it in the poison queue as a
// *GaveUpError. Handlers are exactly-once by their own transactions (or the
// inbox), so a message handled out of its topic's order, or twice (a
// retrier that dies between a success and its Delete), changes nothing:
// order_summary fills gaps from the event store and the checkout reads the
// order's state, not the event's.

// setAside is the middleware of the router's deliveries when there is a
// retry queue: a transient failure is set aside and acked. When the retry
// queue cannot be written (its database is down), the failure is returned
// and the broker redelivers the message: nothing is lost, and the partition
// waits as it would without a retry queue.
func (m *reliabilityMetrics) setAside(cfg Reliability, logger watermill.LoggerAdapter) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if err == nil || IsPermanent(err) {
				return out, err
			}
			if cfg.MaxFailedDeliveries == 1 {
				return out, &GaveUpError{Deliveries: 1, Err: err}
			}
			ctx := msg.Context()
			now := time.Now().UTC()
			first, perr := time.Parse(time.RFC3339Nano, msg.Metadata.Get(eventwire.KeyFirstFailedAt))
			if perr != nil {
				first = now
			}
			rm := ports.RetryingMessage{
				ID: uuid.Must(uuid.NewV7()).String(), MessageID: msg.UUID,
				Topic: topicName(ctx), Handler: handlerName(ctx),
				Payload: msg.Payload, Metadata: maps.Clone(map[string]string(msg.Metadata)),
				Attempts: 1, LastError: err.Error(), FirstFailedAt: first,
			}
			delay := cfg.retryDelay(1)
			bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			fields := watermill.LogFields{"handler": rm.Handler, "message_uuid": msg.UUID, "error": err.Error()}
			if aerr := cfg.Retries.Add(bg, rm, delay); aerr != nil {
				logger.Error("Cannot set the message aside for a retry; it is redelivered", aerr, fields)
				return out, err
			}
			traceSetAside(ctx, delay.String(), err)
			m.setAsideCount.WithLabelValues(rm.Handler).Inc()
			logger.Info("Message set aside for a retry", fields.Add(watermill.LogFields{"retry_in": delay.String()}))
			return nil, nil
		}
	}
}

// retryDelay is the wait before delivery attempt+1, after attempt failed
// deliveries.
func (c Reliability) retryDelay(attempt int) time.Duration {
	d := c.RetryBackoff
	for i := 1; i < attempt && d < c.MaxRetryBackoff; i++ {
		d *= 2
	}
	d = min(d, c.MaxRetryBackoff)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64())) //nolint:gosec // jitter, not a secret
}

// retryRoute is one route as the retrier delivers to it: its handler
// wrapped in the delivery middleware (no set-aside: the retrier decides).
type retryRoute struct {
	name, topic string
	h           message.HandlerFunc
}

// retrier delivers the due messages of the retry queue to their routes.
type retrier struct {
	cfg     Reliability
	routes  []retryRoute
	poison  message.Publisher
	metrics *reliabilityMetrics
	logger  watermill.LoggerAdapter
}

// retryBatch is how many due messages of one route a round claims;
// retryConcurrency how many of them it delivers at once.
const (
	retryBatch       = 32
	retryConcurrency = 4
)

// newRetrier builds the retrier of routes rs, registering the retry
// queue's depth gauge in reg.
func newRetrier(cfg Reliability, rs []route, rm *reliabilityMetrics, pub message.Publisher, reg prometheus.Registerer, logger watermill.LoggerAdapter) (*retrier, error) {
	mw, err := rm.middlewares(cfg, pub, logger, deliverOnce)
	if err != nil {
		return nil, err
	}
	cfg.setDefaults()
	r := &retrier{cfg: cfg, poison: rm.poisonPublisher(cfg, pub), metrics: rm, logger: logger}
	for _, rt := range rs {
		var h message.HandlerFunc = func(msg *message.Message) ([]*message.Message, error) { return nil, rt.handler(msg) }
		if d := rm.dedup(cfg, logger); rt.inbox && d != nil {
			h = d(h)
		}
		for i := len(mw) - 1; i >= 0; i-- {
			h = mw[i](h)
		}
		r.routes = append(r.routes, retryRoute{name: rt.name, topic: rt.topic, h: h})
	}
	depth := retryQueueDepth{store: cfg.Retries, desc: prometheus.NewDesc(
		"orderflow_router_retry_queue_messages",
		"Messages set aside in the retry queue, waiting for their next delivery, by handler (all processes).",
		[]string{"handler_name"}, nil)}
	if err := reg.Register(depth); err != nil {
		return nil, fmt.Errorf("router metrics: %w", err)
	}
	return r, nil
}

// lease is how long a claimed message stays hidden from other retriers:
// longer than one delivery with its retries in place.
func (r *retrier) lease() time.Duration {
	return 3*r.cfg.HandlerTimeout + r.cfg.Retry.MaxElapsedTime + 5*time.Second
}

// run delivers due messages every RetryPoll until ctx ends.
func (r *retrier) run(ctx context.Context) {
	tick.Every(ctx, r.cfg.RetryPoll, func(ctx context.Context) bool {
		r.round(ctx)
		return true
	})
}

// round claims and delivers the due messages of every route once.
func (r *retrier) round(ctx context.Context) {
	sem := make(chan struct{}, retryConcurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, rt := range r.routes {
		due, err := r.cfg.Retries.Claim(ctx, rt.name, retryBatch, r.lease())
		if err != nil {
			if ctx.Err() == nil {
				r.logger.Error("Cannot claim due retries", err, watermill.LogFields{"handler": rt.name})
			}
			continue
		}
		for _, m := range due {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return // the unstarted claims come back when their lease ends
			}
			wg.Go(func() {
				defer func() { <-sem }()
				r.deliver(ctx, rt, m)
			})
		}
	}
}

// deliver hands one set-aside message to its route again, then deletes it
// (handled, or parked by the poison queue as permanent), reschedules it, or
// parks it as given up after its last attempt.
func (r *retrier) deliver(ctx context.Context, rt retryRoute, m ports.RetryingMessage) {
	msg := message.NewMessage(m.MessageID, m.Payload)
	maps.Copy(msg.Metadata, m.Metadata)
	msg.SetContext(withRoute(ctx, rt.name, rt.topic))
	_, err := rt.h(msg)
	if err != nil && ctx.Err() != nil {
		return // shutting down: not an attempt; the lease frees it
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	fields := watermill.LogFields{"handler": rt.name, "message_uuid": m.MessageID, "attempt": m.Attempts + 1}
	outcome := "handled"
	switch attempts := m.Attempts + 1; {
	case err == nil:
		err = r.cfg.Retries.Delete(bg, m.ID, m.Token)
	case r.cfg.MaxFailedDeliveries > 0 && attempts >= r.cfg.MaxFailedDeliveries:
		outcome = "gave_up"
		msg.Metadata.Set(middleware.ReasonForPoisonedKey, (&GaveUpError{Deliveries: attempts, Err: err}).Error())
		msg.SetContext(withRoute(bg, rt.name, rt.topic))
		if err = r.poison.Publish(PoisonTopic, msg); err == nil {
			err = r.cfg.Retries.Delete(bg, m.ID, m.Token)
		}
	default:
		outcome = "rescheduled"
		delay := r.cfg.retryDelay(attempts)
		r.logger.Info("Retried message failed again", fields.Add(watermill.LogFields{"error": err.Error(), "retry_in": delay.String()}))
		err = r.cfg.Retries.Reschedule(bg, m.ID, m.Token, attempts, err.Error(), delay)
	}
	if err != nil {
		// The claim's lease ends and the message is delivered again: at
		// least once, never lost.
		if !errors.Is(err, ports.ErrRetryClaimLost) {
			r.logger.Error("Cannot record the outcome of a retry", err, fields)
		}
		return
	}
	r.metrics.retried.WithLabelValues(rt.name, outcome).Inc()
}

// retryQueueDepth is orderflow_router_retry_queue_messages, read from the
// store at each scrape.
type retryQueueDepth struct {
	store ports.RetryStore
	desc  *prometheus.Desc
}

func (d retryQueueDepth) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }

func (d retryQueueDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := d.store.Pending(ctx)
	if err != nil {
		return // a scrape does not fail with the database; the gauge is absent
	}
	for h, c := range n {
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, float64(c), h)
	}
}
