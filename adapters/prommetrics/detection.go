package prommetrics

import (
	"context"
	"time"

	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
)

// ScrapeGauge is one gauge read from a store at each scrape, within a
// timeout. A scrape that cannot read it reports an error for the metric
// rather than a wrong number.
type ScrapeGauge struct {
	desc    *prometheus.Desc
	read    func(ctx context.Context) (float64, error)
	timeout time.Duration
}

// newScrapeGauge registers the gauge name on reg.
func newScrapeGauge(reg prometheus.Registerer, name, help string, read func(ctx context.Context) (float64, error)) (*ScrapeGauge, error) {
	g := &ScrapeGauge{desc: prometheus.NewDesc(name, help, nil, nil), read: read, timeout: 5 * time.Second}
	if err := reg.Register(g); err != nil {
		return nil, err
	}
	return g, nil
}

// Describe implements prometheus.Collector.
func (g *ScrapeGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

// Collect implements prometheus.Collector.
func (g *ScrapeGauge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	v, err := g.read(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(g.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v)
}

// NewOutboxBacklog registers orderflow_outbox_oldest_unforwarded_seconds on
// reg: the age of the oldest outbox row the forwarder has not acknowledged,
// 0 when the outbox is drained, read by oldest
// (postgres.OldestUnforwardedOutbox, sqlitepubsub.OldestUnacked). It grows
// when the forwarder stops moving (broker down, forwarder not running, or,
// on Postgres, a long open transaction anywhere in the database hiding
// newer rows from it).
func NewOutboxBacklog(reg prometheus.Registerer, oldest func(ctx context.Context) (time.Duration, error)) (*ScrapeGauge, error) {
	return newScrapeGauge(reg, "orderflow_outbox_oldest_unforwarded_seconds",
		"Seconds since the oldest outbox row the forwarder has not acknowledged was written; 0 when the outbox is drained.",
		func(ctx context.Context) (float64, error) {
			age, err := oldest(ctx)
			return age.Seconds(), err
		})
}

// MaxCountedPastDeadline caps orderflow_checkouts_past_deadline: the count
// reads the deadline scanner's own query (CheckoutStore.Due), bounded so
// that a scrape stays cheap however many checkouts are stuck.
const MaxCountedPastDeadline = 1000

// NewCheckoutsPastDeadline registers orderflow_checkouts_past_deadline on
// reg: checkouts in one of states (the non-terminal ones the deadline
// applies to, saga.DueStates) whose deadline has passed, which the deadline
// scanner should have moved on (counted up to MaxCountedPastDeadline). A
// checkout stays there for one scan interval at most while the saga runs;
// more means it is stuck.
func NewCheckoutsPastDeadline(reg prometheus.Registerer, store ports.CheckoutStore, states []string) (*ScrapeGauge, error) {
	return newScrapeGauge(reg, "orderflow_checkouts_past_deadline",
		"Checkouts not finished whose deadline has passed (counted up to 1000).",
		func(ctx context.Context) (float64, error) {
			ids, err := store.Due(ctx, time.Now(), states, MaxCountedPastDeadline)
			return float64(len(ids)), err
		})
}
