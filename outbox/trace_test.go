package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/telemetry/telemetrytest"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func recordSpans(t *testing.T) *tracetest.SpanRecorder { return telemetrytest.RecordSpans(t) }

func spansNamed(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// TestTraceContextTravelsFromAppendThroughTheOutbox: two orders appended in
// two traces (two requests) are forwarded in one batch to Kafka. Each
// append is a span of its request's trace and stores its context in the
// event; the forwarder's batch span links to both appends; each event's
// publish span is a child of its append, linked to the batch; and the
// message on the broker carries the publish span's traceparent, for the
// consumer to continue the order's trace.
func TestTraceContextTravelsFromAppendThroughTheOutbox(t *testing.T) {
	for _, s := range outboxStores {
		t.Run(s.name, func(t *testing.T) {
			sr := recordSpans(t)
			k, fx := newTestKafka(t), s.open(t)
			requests := map[string]trace.SpanContext{} // stream id -> its request's span
			for range 2 {
				stream := ports.Stream{Type: "order", ID: uuid.NewString()}
				ctx, req := otel.Tracer("test").Start(context.Background(), "request")
				ev := ports.NewEvent{Type: "order.noted.v1", Data: []byte(`{}`), Metadata: ports.EventMetadata{
					EventID: uuid.Must(uuid.NewV7()).String(), OccurredAt: time.Now()}}
				if _, err := fx.store.Append(ctx, stream, 0, []ports.NewEvent{ev}); err != nil {
					t.Fatal(err)
				}
				req.End()
				requests[stream.ID] = req.SpanContext()
			}
			f := newForwarder(t, fx.reader(t), k.broker(t), fx.poison, 50, prometheus.NewRegistry())
			if sizes := drain(t, f, 2); len(sizes) != 1 {
				t.Fatalf("forwarded in batches %v, want one batch of 2", sizes)
			}
			got := k.read(t, router.EventTopic("order"), 2)

			spans := sr.Ended()
			appends := map[trace.SpanID]sdktrace.ReadOnlySpan{}
			for _, a := range spansNamed(spans, "eventstore.append") {
				appends[a.SpanContext().SpanID()] = a
			}
			publishes := map[trace.SpanID]sdktrace.ReadOnlySpan{}
			for _, p := range spansNamed(spans, "publish "+router.EventTopic("order")) {
				publishes[p.SpanContext().SpanID()] = p
			}
			batches := spansNamed(spans, "outbox.forward_batch")
			if len(appends) != 2 || len(publishes) != 2 || len(batches) != 1 {
				t.Fatalf("%d append, %d publish and %d batch spans; want 2, 2, 1", len(appends), len(publishes), len(batches))
			}
			batch := batches[0]
			if batch.Parent().IsValid() || len(batch.Links()) != 2 {
				t.Fatalf("batch span: parent %v, %d links; want a root with 2 links", batch.Parent(), len(batch.Links()))
			}
			for _, l := range batch.Links() {
				if _, ok := appends[l.SpanContext.SpanID()]; !ok {
					t.Fatalf("batch span links to %v, which is no append", l.SpanContext)
				}
			}
			for _, m := range got {
				req := requests[m.Metadata.Get(eventwire.KeyStreamID)]
				sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(),
					propagation.MapCarrier(m.Metadata)))
				if !sc.IsValid() || sc.TraceID() != req.TraceID() {
					t.Fatalf("message %s carries trace context %v (traceparent %q), want the trace %s of its request",
						m.UUID, sc, m.Metadata.Get(eventwire.KeyTraceParent), req.TraceID())
				}
				pub, ok := publishes[sc.SpanID()]
				if !ok {
					t.Fatalf("message %s names span %s as its parent, not a publish span", m.UUID, sc.SpanID())
				}
				app, ok := appends[pub.Parent().SpanID()]
				if !ok || app.Parent().SpanID() != req.SpanID() {
					t.Fatalf("publish span's parent %v is not the append under the request %v", pub.Parent(), req)
				}
				if len(pub.Links()) != 1 || pub.Links()[0].SpanContext.SpanID() != batch.SpanContext().SpanID() {
					t.Fatalf("publish span links %v, want the batch span", pub.Links())
				}
			}
		})
	}
}
