// Package exemplar attaches the trace of a context to a latency
// observation: the OpenMetrics exemplar {trace_id="..."} that lets Grafana
// jump from a point of a latency panel to the trace in Jaeger.
package exemplar

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
)

// TraceIDLabel is the exemplar label holding the trace id (the name the
// Grafana datasource's exemplar link reads, deploy/grafana).
const TraceIDLabel = "trace_id"

// Labels are the exemplar labels of ctx's span: the trace id of a valid,
// sampled span context, or nil (tracing off, or this trace not sampled: an
// exemplar pointing at a trace the backend never received is a dead link).
func Labels(ctx context.Context) prometheus.Labels {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() || !sc.IsSampled() {
		return nil
	}
	return prometheus.Labels{TraceIDLabel: sc.TraceID().String()}
}

// Observe records v on o, with ctx's trace id as its exemplar when ctx
// carries a sampled span (see Labels) and o takes exemplars (every
// histogram of client_golang does); a plain observation otherwise.
func Observe(ctx context.Context, o prometheus.Observer, v float64) {
	if l := Labels(ctx); l != nil {
		if eo, ok := o.(prometheus.ExemplarObserver); ok {
			eo.ObserveWithExemplar(v, l)
			return
		}
	}
	o.Observe(v)
}
