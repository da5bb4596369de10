package router

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/internal/exemplar"
	"github.com/prometheus/client_golang/prometheus"
)

// handlerBuckets are Watermill's own for this histogram (0.5 ms to 1 s).
var handlerBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// addRouterMetrics adds Watermill's Prometheus metrics to r (published and
// received messages, through its publisher and subscriber decorators) and,
// in place of Watermill's handler middleware, handlerExecution: the same
// orderflow_router_handler_execution_time_seconds{handler_name,success},
// with exemplars.
func addRouterMetrics(r *message.Router, reg prometheus.Registerer) error {
	b := metrics.NewPrometheusMetricsBuilder(reg, "orderflow", "router")
	r.AddPublisherDecorators(b.DecoratePublisher)
	r.AddSubscriberDecorators(b.DecorateSubscriber)
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "orderflow", Subsystem: "router", Name: "handler_execution_time_seconds",
		Help:    "The total time elapsed while executing the handler function in seconds",
		Buckets: handlerBuckets,
	}, []string{"handler_name", "success"})
	if err := reg.Register(h); err != nil {
		// Another router on the same registry: share its histogram.
		var are prometheus.AlreadyRegisteredError
		existing, ok := (*prometheus.HistogramVec)(nil), false
		if errors.As(err, &are) {
			existing, ok = are.ExistingCollector.(*prometheus.HistogramVec)
		}
		if !ok {
			return fmt.Errorf("router: %w", err)
		}
		h = existing
	}
	r.AddMiddleware(handlerExecution(h))
	return nil
}

// handlerExecution observes each handler call's duration. Its exemplar is
// the trace of the message's context as the handler left it (middleware
// inside this one may have put the trace restored from the message there).
func handlerExecution(h *prometheus.HistogramVec) message.HandlerMiddleware {
	return func(next message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) (msgs []*message.Message, err error) {
			start := time.Now()
			name := message.HandlerNameFromCtx(msg.Context())
			defer func() {
				exemplar.Observe(msg.Context(), h.WithLabelValues(name, strconv.FormatBool(err == nil)), time.Since(start).Seconds())
			}()
			return next(msg)
		}
	}
}
