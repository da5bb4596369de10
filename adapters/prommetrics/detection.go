package prommetrics

import (
	"context"
	"time"

	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
)

// OutboxBacklog exports, at each scrape, orderflow_outbox_oldest_unforwarded_seconds:
// the age of the oldest outbox row the forwarder has not acknowledged, 0
// when the outbox is drained. It grows when the forwarder stops moving
// (broker down, forwarder not running, or, on Postgres, a long open
// transaction anywhere in the database hiding newer rows from it). A scrape
// that cannot read it reports an error for the metric rather than a wrong
// number.
type OutboxBacklog struct {
	oldest  func(ctx context.Context) (time.Duration, error)
	timeout time.Duration
	desc    *prometheus.Desc
}

// NewOutboxBacklog registers the outbox's backlog gauge on reg. oldest
// reads the age from the store (postgres.OldestUnforwardedOutbox,
// sqlitepubsub.OldestUnacked).
func NewOutboxBacklog(reg prometheus.Registerer, oldest func(ctx context.Context) (time.Duration, error)) (*OutboxBacklog, error) {
	c := &OutboxBacklog{
		oldest: oldest, timeout: 5 * time.Second,
		desc: prometheus.NewDesc("orderflow_outbox_oldest_unforwarded_seconds",
			"Seconds since the oldest outbox row the forwarder has not acknowledged was written; 0 when the outbox is drained.",
			nil, nil),
	}
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Describe implements prometheus.Collector.
func (c *OutboxBacklog) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *OutboxBacklog) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	age, err := c.oldest(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, age.Seconds())
}

// MaxCountedPastDeadline caps orderflow_checkouts_past_deadline: the count
// reads the deadline scanner's own query (CheckoutStore.Due), bounded so
// that a scrape stays cheap however many checkouts are stuck.
const MaxCountedPastDeadline = 1000

// CheckoutsPastDeadline exports, at each scrape,
// orderflow_checkouts_past_deadline: checkouts in a non-terminal state whose
// deadline has passed, which the deadline scanner should have moved on
// (counted up to MaxCountedPastDeadline). A checkout stays there for one
// scan interval at most while the saga runs; more means it is stuck.
type CheckoutsPastDeadline struct {
	store   ports.CheckoutStore
	states  []string
	now     func() time.Time
	timeout time.Duration
	desc    *prometheus.Desc
}

// NewCheckoutsPastDeadline registers the gauge on reg. states are the
// non-terminal states the deadline applies to (saga.DueStates).
func NewCheckoutsPastDeadline(reg prometheus.Registerer, store ports.CheckoutStore, states []string) (*CheckoutsPastDeadline, error) {
	c := &CheckoutsPastDeadline{
		store: store, states: states, now: time.Now, timeout: 5 * time.Second,
		desc: prometheus.NewDesc("orderflow_checkouts_past_deadline",
			"Checkouts not finished whose deadline has passed (counted up to 1000).", nil, nil),
	}
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Describe implements prometheus.Collector.
func (c *CheckoutsPastDeadline) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *CheckoutsPastDeadline) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	ids, err := c.store.Due(ctx, c.now(), c.states, MaxCountedPastDeadline)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(len(ids)))
}
