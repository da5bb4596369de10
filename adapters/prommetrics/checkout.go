package prommetrics

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Checkouts records the checkout saga: outcomes (confirmed, or cancelled
// with a reason code), durations in seconds, and compensations by step. It
// implements app/saga.Metrics.
type Checkouts struct {
	outcomes      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	compensations *prometheus.CounterVec
}

// NewCheckouts registers orderflow_checkouts_total,
// orderflow_checkout_duration_seconds and orderflow_checkout_compensations_total.
func NewCheckouts(reg prometheus.Registerer) (*Checkouts, error) {
	c := &Checkouts{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "orderflow", Name: "checkouts_total",
			Help: "Finished checkouts by outcome (confirmed, cancelled, parked) and reason (empty when confirmed; the stuck state when parked).",
		}, []string{"outcome", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "orderflow", Name: "checkout_duration_seconds",
			Help:    "Time from the start of checkout to its outcome, by outcome.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"outcome"}),
		compensations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "orderflow", Name: "checkout_compensations_total",
			Help: "Compensation steps done, by step.",
		}, []string{"step"}),
	}
	if err := errors.Join(reg.Register(c.outcomes), reg.Register(c.duration), reg.Register(c.compensations)); err != nil {
		return nil, err
	}
	return c, nil
}

// CheckoutFinished implements saga.Metrics.
func (c *Checkouts) CheckoutFinished(outcome, reason string, elapsed time.Duration) {
	if outcome == "confirmed" {
		reason = ""
	}
	c.outcomes.WithLabelValues(outcome, reason).Inc()
	c.duration.WithLabelValues(outcome).Observe(elapsed.Seconds())
}

// CheckoutParked implements saga.Metrics: outcome "parked", the reason
// label naming the state the checkout could not leave.
func (c *Checkouts) CheckoutParked(state string) { c.outcomes.WithLabelValues("parked", state).Inc() }

// Compensated implements saga.Metrics.
func (c *Checkouts) Compensated(step string) { c.compensations.WithLabelValues(step).Inc() }
