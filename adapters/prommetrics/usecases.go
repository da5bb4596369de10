// Package prommetrics records application metrics in Prometheus.
package prommetrics

import (
	"context"
	"time"

	"github.com/orderflow/orderflow/app/decorator"
	"github.com/orderflow/orderflow/internal/exemplar"
	"github.com/prometheus/client_golang/prometheus"
)

var _ decorator.MetricsClient = (*UseCases)(nil)

// UseCases records every use-case execution as a histogram of seconds,
// labelled by use case and outcome ("ok" or the error code).
type UseCases struct {
	duration *prometheus.HistogramVec
}

// NewUseCases registers orderflow_use_case_duration_seconds on reg.
func NewUseCases(reg prometheus.Registerer) (*UseCases, error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "orderflow",
		Name:      "use_case_duration_seconds",
		Help:      "Duration of application commands and queries, by use case and outcome (ok or error code).",
		Buckets:   []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"use_case", "outcome"})
	if err := reg.Register(h); err != nil {
		return nil, err
	}
	return &UseCases{duration: h}, nil
}

// ObserveUseCase implements decorator.MetricsClient: the trace of ctx, if
// sampled, is the observation's exemplar.
func (u *UseCases) ObserveUseCase(ctx context.Context, name, outcome string, elapsed time.Duration) {
	exemplar.Observe(ctx, u.duration.WithLabelValues(name, outcome), elapsed.Seconds())
}
