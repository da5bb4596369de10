package httpapi

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// traced wraps h in the request's server span (otelhttp, on the global
// tracer provider and propagator: a traceparent the client sends makes the
// span its child). The response carries the span's own traceparent header,
// so whoever made the request can open its trace (the trace id is its
// second field). The span is named after the method until the router
// matched a route, then after the route's template (nameSpan), never the
// raw path, which holds ids. The polled operations endpoints are not traced.
func traced(h http.Handler) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		propagation.TraceContext{}.Inject(r.Context(), propagation.HeaderCarrier(w.Header()))
		h.ServeHTTP(w, r)
	})
	return otelhttp.NewHandler(inner, "http",
		otelhttp.WithFilter(func(r *http.Request) bool { return !quietRoutes[r.URL.Path] }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }))
}

// nameSpan names the request's span after the route template the router
// matched ("POST /v1/orders/{id}/ship") and sets http.route.
func nameSpan(r *http.Request, template string) {
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetName(r.Method + " " + template)
		span.SetAttributes(attribute.String("http.route", template))
	}
}
