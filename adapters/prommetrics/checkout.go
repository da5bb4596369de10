package prommetrics

import (
	"context"
	"errors"
	"time"

	"github.com/orderflow/orderflow/internal/exemplar"
	"github.com/prometheus/client_golang/prometheus"
)

// Checkouts records the checkout saga: outcomes (confirmed, or cancelled
// with a reason code), durations in seconds, compensations by step, each
// step's duration, and the time from an order's placement to its
// confirmation. It implements app/saga.Metrics.
type Checkouts struct {
	outcomes      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	compensations *prometheus.CounterVec
	steps         *prometheus.HistogramVec
	confirmed     prometheus.Histogram
	batches       *prometheus.HistogramVec
}

// NewCheckouts registers orderflow_checkouts_total,
// orderflow_checkout_duration_seconds, orderflow_checkout_compensations_total,
// orderflow_checkout_step_duration_seconds,
// orderflow_order_placed_to_confirmed_seconds and
// orderflow_checkout_batch_units.
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
		steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "orderflow", Name: "checkout_step_duration_seconds",
			Help:    "Checkout steps (compensations included) by step and outcome (done or failed): the time from the step before to this one's saved record.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"step", "outcome"}),
		confirmed: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "orderflow", Name: "order_placed_to_confirmed_seconds",
			Help:    "Time from an order's placement (its order.placed event) to the checkout's saved confirmation, once per confirmed order.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}),
		batches: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "orderflow", Name: "checkout_batch_units",
			Help:    "Units of checkout steps committed together in one transaction, per batch, by result (committed, or failed: its units then ran alone).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}, []string{"result"}),
	}
	if err := errors.Join(reg.Register(c.outcomes), reg.Register(c.duration), reg.Register(c.compensations),
		reg.Register(c.steps), reg.Register(c.confirmed), reg.Register(c.batches)); err != nil {
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

// StepFinished implements saga.Metrics; the trace of ctx, if sampled, is
// the exemplar.
func (c *Checkouts) StepFinished(ctx context.Context, step, outcome string, elapsed time.Duration) {
	exemplar.Observe(ctx, c.steps.WithLabelValues(step, outcome), elapsed.Seconds())
}

// OrderConfirmed implements saga.Metrics; the trace of ctx, if sampled, is
// the exemplar.
func (c *Checkouts) OrderConfirmed(ctx context.Context, sincePlaced time.Duration) {
	exemplar.Observe(ctx, c.confirmed, sincePlaced.Seconds())
}

// Compensated implements saga.Metrics.
func (c *Checkouts) Compensated(step string) { c.compensations.WithLabelValues(step).Inc() }

// Batched implements saga.Metrics.
func (c *Checkouts) Batched(units int, committed bool) {
	result := "committed"
	if !committed {
		result = "failed"
	}
	c.batches.WithLabelValues(result).Observe(float64(units))
}
