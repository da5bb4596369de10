package prommetrics

import (
	"context"
	"time"

	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
)

// ProjectionLag exports, at each scrape, how far each projection is behind
// the event store: orderflow_projection_lag_events (stored events after its
// checkpoint) and orderflow_projection_lag_seconds (age of the oldest of
// them; 0 when caught up). A scrape that cannot read the lag reports
// nothing for that projection rather than a wrong number.
type ProjectionLag struct {
	store       ports.CheckpointStore
	projections []string
	now         func() time.Time
	timeout     time.Duration
	events      *prometheus.Desc
	seconds     *prometheus.Desc
}

// NewProjectionLag registers the lag gauges of projections on reg.
func NewProjectionLag(reg prometheus.Registerer, store ports.CheckpointStore, projections ...string) (*ProjectionLag, error) {
	c := &ProjectionLag{
		store: store, projections: projections, now: time.Now, timeout: 5 * time.Second,
		events: prometheus.NewDesc("orderflow_projection_lag_events",
			"Stored events after the projection's checkpoint.", []string{"projection"}, nil),
		seconds: prometheus.NewDesc("orderflow_projection_lag_seconds",
			"Seconds since the oldest event the projection has not applied was recorded; 0 when caught up.",
			[]string{"projection"}, nil),
	}
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Describe implements prometheus.Collector.
func (c *ProjectionLag) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.events
	ch <- c.seconds
}

// Collect implements prometheus.Collector.
func (c *ProjectionLag) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	for _, p := range c.projections {
		lag, err := c.store.Lag(ctx, p)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.events, err)
			continue
		}
		seconds := 0.0
		if lag.Events > 0 {
			seconds = max(0, c.now().Sub(lag.Oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(c.events, prometheus.GaugeValue, float64(lag.Events), p)
		ch <- prometheus.MustNewConstMetric(c.seconds, prometheus.GaugeValue, seconds, p)
	}
}
