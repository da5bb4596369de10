// Package outbox moves the transactional outbox to the broker: the
// Forwarder reads outbox rows in batches from a Source (postgres.OutboxReader,
// sqlitepubsub.BatchReader), unwraps the events and publishes them, and the
// Cleaner deletes rows the forwarder has moved. Both run beside the router,
// started and stopped by the composition root; neither is a router handler.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/internal/defaults"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/tick"
	"github.com/prometheus/client_golang/prometheus"
)

// The outbox's names. They are part of the deployment's state (SQL tables,
// consumer-group offsets, poison entries), so they are constants with a
// version suffix, never derived from Go names.
const (
	// Topic is the transactional outbox, written in the same transaction as
	// the events and drained by the forwarder. It lives in the event
	// store's database whatever the broker is.
	Topic = "orderflow.outbox.v1"

	// ConsumerGroup is the forwarder's consumer group on the outbox.
	ConsumerGroup = "orderflow.forwarder.v1"
)

// ForwarderName is the handler name outbox rows that cannot be forwarded
// are parked under in the poison queue (and the handler_name label of
// orderflow_router_poisoned_messages_total). It is the name Watermill's
// forwarder handler had, so poison entries keep it across the upgrade.
const ForwarderName = "events_forwarder"

// Source reads the outbox for the forwarder's consumer group
// (ConsumerGroup) in batches: postgres.OutboxReader and
// sqlitepubsub.BatchReader.
type Source interface {
	// ForwardBatch takes the group's lock on the outbox, reads up to max
	// rows after the group's offset, oldest first, and calls forward with
	// them. Only when forward returns nil does it advance the offset past
	// the last row (even if ctx ended meanwhile: the batch is published);
	// otherwise the next call reads the same rows again. It returns how many
	// rows it acknowledged: 0 when the outbox is drained or another
	// forwarder of the group holds the lock. Several processes may call it
	// at once; the lock serializes them, so rows are forwarded in order.
	ForwardBatch(ctx context.Context, max int, forward func(ctx context.Context, rows []*message.Message) error) (int, error)
}

// ForwarderConfig configures a Forwarder.
type ForwarderConfig struct {
	// Outbox is where the rows come from.
	Outbox Source
	// Broker receives the events: PublishBatch, or Publisher per topic run.
	Broker broker.Broker
	// Poison receives rows that are not forwarder envelopes, on
	// PoisonTopic, marked like the router's poison queue middleware marks a
	// message (reason, topic, handler ForwarderName); the router's
	// PoisonPublisher, so that they land in the same poison queue.
	Poison      message.Publisher
	PoisonTopic string
	// BatchSize is the most rows one batch reads and publishes. Default 100.
	BatchSize int
	// PollInterval is the pause after a batch that was not full (the outbox
	// is drained): the latency of an idle outbox, and the linger in which
	// the next batch fills. Default 100ms.
	PollInterval time.Duration
	// MaxBackoff caps the pause after consecutive failures. Default 5s.
	MaxBackoff time.Duration
	// PublishTimeout bounds the broker publish of one batch for brokers
	// whose publisher takes the message context. Default 30s.
	PublishTimeout time.Duration
	// Registry receives the forwarder's metrics.
	Registry prometheus.Registerer
	Logger   *slog.Logger
}

func (c *ForwarderConfig) setDefaults() {
	defaults.Set(&c.BatchSize, 100)
	defaults.Set(&c.PollInterval, 100*time.Millisecond)
	defaults.Set(&c.MaxBackoff, 5*time.Second)
	defaults.Set(&c.PublishTimeout, 30*time.Second)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports missing parts and impossible settings.
func (c ForwarderConfig) Validate() error {
	var errs []error
	if c.Outbox == nil {
		errs = append(errs, errors.New("forwarder: outbox source is required"))
	}
	if c.Broker.Publisher == nil && c.Broker.PublishBatch == nil {
		errs = append(errs, errors.New("forwarder: broker publisher is required"))
	}
	if c.Poison == nil || c.PoisonTopic == "" {
		errs = append(errs, errors.New("forwarder: poison publisher and topic are required"))
	}
	if c.Registry == nil {
		errs = append(errs, errors.New("forwarder: prometheus registry is required"))
	}
	if c.BatchSize < 1 || c.PollInterval <= 0 || c.MaxBackoff <= 0 || c.PublishTimeout <= 0 {
		errs = append(errs, errors.New("forwarder: batch size, poll interval, max backoff and publish timeout must be positive"))
	}
	return errors.Join(errs...)
}

// Forwarder moves the transactional outbox to the broker in batches: it
// reads up to BatchSize rows, unwraps the events, publishes them in one
// broker call (in outbox order) and only then acknowledges the rows. A
// failure anywhere acknowledges nothing and the batch is forwarded again
// after a backoff, so delivery is at least once and consumers deduplicate
// by message UUID, which is the event's own. A row that is not a forwarder
// envelope goes to the poison queue with the reason, after the rest of its
// batch was published, and is acknowledged with it.
type Forwarder struct {
	cfg ForwarderConfig
	m   forwarderMetrics
}

// NewForwarder validates cfg and registers the forwarder's metrics.
func NewForwarder(cfg ForwarderConfig) (*Forwarder, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newForwarderMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	return &Forwarder{cfg: cfg, m: m}, nil
}

// Run forwards until ctx ends, and returns nil then. A batch whose publish
// has begun is finished (published and acknowledged, or left for the next
// forwarder) before Run returns. Errors are logged and retried with
// exponential backoff from PollInterval up to MaxBackoff.
func (f *Forwarder) Run(ctx context.Context) error {
	backoff := f.cfg.PollInterval
	for ctx.Err() == nil {
		n, err := f.ForwardOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			f.cfg.Logger.Error("outbox forwarding failed; nothing of the batch is acknowledged, it is forwarded again",
				"error", err, "retry_in", backoff, "consumer_group", ConsumerGroup)
			tick.Sleep(ctx, backoff)
			backoff = min(2*backoff, f.cfg.MaxBackoff)
		case err == nil:
			backoff = f.cfg.PollInterval
			if n < f.cfg.BatchSize {
				tick.Sleep(ctx, f.cfg.PollInterval)
			}
		}
	}
	return nil
}

// ForwardOnce forwards one batch and returns how many outbox rows it
// acknowledged (forwarded or poisoned).
func (f *Forwarder) ForwardOnce(ctx context.Context) (int, error) {
	var (
		stage             string
		published         int
		start             = time.Now()
		firstRow, lastRow string
	)
	n, err := f.cfg.Outbox.ForwardBatch(ctx, f.cfg.BatchSize, func(ctx context.Context, rows []*message.Message) error {
		stage, published = "", 0
		if len(rows) > 0 {
			firstRow, lastRow = rows[0].UUID, rows[len(rows)-1].UUID
		}
		out, bad := f.unwrap(rows)
		pubCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.cfg.PublishTimeout)
		defer cancel()
		spans := f.startSpans(pubCtx, len(rows), out)
		for _, m := range out {
			m.Msg.SetContext(pubCtx)
		}
		if err := f.cfg.Broker.PublishInOrder(out); err != nil {
			stage = "publish"
			err = fmt.Errorf("publish %d events: %w", len(out), err)
			spans.end(err)
			return err
		}
		spans.end(nil)
		for _, p := range bad {
			p.SetContext(pubCtx)
			if err := f.cfg.Poison.Publish(f.cfg.PoisonTopic, p); err != nil {
				stage = "poison"
				return fmt.Errorf("park outbox row %s: %w", p.UUID, err)
			}
			f.cfg.Logger.Warn("outbox row is not a forwarder envelope; parked in the poison queue",
				"outbox_row", p.UUID, "reason", p.Metadata.Get(middleware.ReasonForPoisonedKey))
		}
		published = len(out)
		return nil
	})
	if err != nil {
		if stage == "" {
			stage = "store"
		}
		if stage != "store" || ctx.Err() == nil { // not a read cut short by shutdown
			f.m.errors.WithLabelValues(stage).Inc()
		}
		if firstRow != "" {
			return n, fmt.Errorf("outbox rows %s..%s (%s): %w", firstRow, lastRow, stage, err)
		}
		return n, fmt.Errorf("outbox (%s): %w", stage, err)
	}
	if n > 0 {
		f.m.forwarded.Add(float64(published))
		f.m.batchSize.Observe(float64(n))
		f.m.duration.Observe(time.Since(start).Seconds())
	}
	return n, nil
}

// unwrap splits rows into the events to publish, in row order, and the rows
// to park, marked for the poison queue.
func (f *Forwarder) unwrap(rows []*message.Message) (out []broker.TopicMessage, bad []*message.Message) {
	out = make([]broker.TopicMessage, 0, len(rows))
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for _, row := range rows {
		tm, err := unwrapOutbox(row)
		if err == nil {
			out = append(out, tm)
			continue
		}
		p := row.Copy()
		p.Metadata.Set(middleware.ReasonForPoisonedKey, err.Error())
		p.Metadata.Set(middleware.PoisonedTopicKey, Topic)
		p.Metadata.Set(middleware.PoisonedHandlerKey, ForwarderName)
		p.Metadata.Set(middleware.PoisonedSubscriberKey, ConsumerGroup)
		if p.Metadata.Get(eventwire.KeyFirstFailedAt) == "" {
			p.Metadata.Set(eventwire.KeyFirstFailedAt, now)
		}
		bad = append(bad, p)
	}
	return out, bad
}

type forwarderMetrics struct {
	forwarded prometheus.Counter
	batchSize prometheus.Histogram
	duration  prometheus.Histogram
	errors    *prometheus.CounterVec
}

func newForwarderMetrics(reg prometheus.Registerer) (forwarderMetrics, error) {
	m := forwarderMetrics{
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "orderflow", Subsystem: "outbox", Name: "forwarded_messages_total",
			Help: "Events the forwarder published to the broker and acknowledged in the outbox.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "orderflow", Subsystem: "outbox", Name: "forward_batch_size",
			Help:    "Outbox rows per acknowledged batch.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "orderflow", Subsystem: "outbox", Name: "forward_batch_duration_seconds",
			Help:    "Time to read, publish and acknowledge one batch.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "orderflow", Subsystem: "outbox", Name: "forward_errors_total",
			Help: "Failed batch attempts, by stage: publish (the broker), poison (parking a bad row), store (reading or acknowledging the outbox).",
		}, []string{"stage"}),
	}
	for _, c := range []prometheus.Collector{m.forwarded, m.batchSize, m.duration, m.errors} {
		if err := reg.Register(c); err != nil {
			return m, fmt.Errorf("forwarder metrics: %w", err)
		}
	}
	for _, stage := range []string{"publish", "poison", "store"} {
		m.errors.WithLabelValues(stage)
	}
	return m, nil
}
