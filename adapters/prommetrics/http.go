package prommetrics

import (
	"context"
	"strconv"
	"time"

	"github.com/orderflow/orderflow/internal/exemplar"
	"github.com/prometheus/client_golang/prometheus"
)

// HTTPRequests records every HTTP request as
// orderflow_http_request_duration_seconds{method,route,code}: route is the
// path template ("/v1/orders/{id}", never the raw path, so the series stay
// few; "unmatched" for a request no route took), code the status. Its
// _count by code is the error rate per route. It implements
// httpapi.RequestMetrics.
type HTTPRequests struct {
	duration *prometheus.HistogramVec
}

// NewHTTPRequests registers orderflow_http_request_duration_seconds on reg.
func NewHTTPRequests(reg prometheus.Registerer) (*HTTPRequests, error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "orderflow", Name: "http_request_duration_seconds",
		Help:    "Duration of HTTP requests, by method, route (path template) and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route", "code"})
	if err := reg.Register(h); err != nil {
		return nil, err
	}
	return &HTTPRequests{duration: h}, nil
}

// ObserveRequest records one request; the trace of ctx, if sampled, is
// its exemplar.
func (h *HTTPRequests) ObserveRequest(ctx context.Context, method, route string, status int, elapsed time.Duration) {
	exemplar.Observe(ctx, h.duration.WithLabelValues(method, route, strconv.Itoa(status)), elapsed.Seconds())
}
