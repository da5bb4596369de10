package httpapi_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/handlers/httpapi"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/internal/telemetry/telemetrytest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func recordSpans(t *testing.T) *tracetest.SpanRecorder { return telemetrytest.RecordSpans(t) }

// With tracing on, a request is a server span named after its route
// template (not the path, which holds the SKU), a child of the traceparent
// the client sent, and the response names the span in its traceparent; the
// request's log line carries the trace and span ids. Health checks are not
// traced; with tracing off nothing is.
func TestRequestSpanIsNamedAfterTheRouteAndAnswered(t *testing.T) {
	sr := recordSpans(t)
	var logs syncBuffer
	e := newEnv(t, func(c *httpapi.Config) {
		c.Tracing = true
		c.Logger = slog.New(telemetry.LogHandler(slog.NewTextHandler(&logs, nil)))
	})
	client := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	rec := e.do(t, "GET", "/v1/inventory/SKU-1", "", "traceparent", client)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Name() != "GET /v1/inventory/{sku}" || s.SpanKind() != trace.SpanKindServer {
		t.Fatalf("span %q of kind %v", s.Name(), s.SpanKind())
	}
	var route string
	for _, a := range s.Attributes() {
		if a.Key == attribute.Key("http.route") {
			route = a.Value.AsString()
		}
	}
	if route != "/v1/inventory/{sku}" {
		t.Fatalf("http.route %q", route)
	}
	if s.Parent().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Fatalf("parent %v, want the client's span", s.Parent())
	}
	want := "00-" + s.SpanContext().TraceID().String() + "-" + s.SpanContext().SpanID().String() + "-01"
	if got := rec.Header().Get("traceparent"); got != want {
		t.Fatalf("response traceparent %q, want %q", got, want)
	}
	if l := logs.String(); !strings.Contains(l, "http request") || !strings.Contains(l, "trace_id="+s.SpanContext().TraceID().String()) ||
		!strings.Contains(l, "span_id="+s.SpanContext().SpanID().String()) {
		t.Fatalf("the request's log line does not name its span: %s", l)
	}

	if rec := e.do(t, "GET", "/healthz", ""); rec.Header().Get("traceparent") != "" || len(sr.Ended()) != 1 {
		t.Fatalf("/healthz was traced: %q, %d spans", rec.Header().Get("traceparent"), len(sr.Ended()))
	}
	off := newEnv(t)
	if rec := off.do(t, "GET", "/v1/inventory/SKU-1", ""); rec.Header().Get("traceparent") != "" || len(sr.Ended()) != 1 {
		t.Fatalf("tracing off: traceparent %q, %d spans", rec.Header().Get("traceparent"), len(sr.Ended()))
	}
}

// The document describes the traceparent the service sends: the header
// component's schema accepts what a traced response carries, the responses
// that start or read an order list it, and the conventions explain it.
func TestOpenAPIDocumentsTheTraceparentHeader(t *testing.T) {
	recordSpans(t)
	doc, _ := mustDoc(t)
	h := doc.Components.Headers["Traceparent"]
	if h == nil || h.Value == nil {
		t.Fatal("components.headers has no Traceparent")
	}
	e := newEnv(t, func(c *httpapi.Config) { c.Tracing = true })
	got := e.do(t, "GET", "/v1/inventory/SKU-1", "").Header().Get("traceparent")
	if got == "" {
		t.Fatal("a traced response carries no traceparent")
	}
	if err := h.Value.Schema.Value.VisitJSON(got); err != nil {
		t.Fatalf("traceparent %q does not match the documented schema: %v", got, err)
	}
	for _, op := range []struct{ path, method, status string }{
		{"/v1/orders", http.MethodPost, "201"},
		{"/v1/orders/{id}", http.MethodGet, "200"},
	} {
		resp := doc.Paths.Find(op.path).GetOperation(op.method).Responses.Value(op.status)
		if resp == nil || resp.Value.Headers["Traceparent"] == nil {
			t.Errorf("%s %s %s does not list the Traceparent header", op.method, op.path, op.status)
		}
	}
	if !strings.Contains(doc.Info.Description, "`traceparent`") {
		t.Error("the document's conventions do not explain traceparent")
	}
}
