package grpcapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/handlers/grpcapi"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
	"github.com/orderflow/orderflow/internal/telemetry/telemetrytest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// With tracing on, a call is a server span (otelgrpc), a child of the
// traceparent in the request metadata, and the response header metadata
// names the span in its traceparent. With tracing off: neither.
func TestCallSpanAndTraceparentHeader(t *testing.T) {
	sr := telemetrytest.RecordSpans(t)

	e := newEnv(t, func(c *grpcapi.Config) { c.Tracing = true })
	call := metadata.AppendToOutgoingContext(ctx(t), "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	var header metadata.MD
	if _, err := e.stock.GetStock(call, &pb.GetStockRequest{Sku: "S"}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	// The server ends its span once the response is sent, which the
	// client may see first (under load it did).
	spans := sr.Ended()
	for deadline := time.Now().Add(5 * time.Second); len(spans) == 0 && time.Now().Before(deadline); spans = sr.Ended() {
		time.Sleep(5 * time.Millisecond)
	}
	if len(spans) != 1 || spans[0].SpanKind() != trace.SpanKindServer || !strings.Contains(spans[0].Name(), "InventoryService/GetStock") {
		t.Fatalf("spans %v", spans)
	}
	s := spans[0]
	if s.Parent().SpanID().String() != "00f067aa0ba902b7" || s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("parent %v, trace %v: want the caller's", s.Parent(), s.SpanContext().TraceID())
	}
	want := "00-" + s.SpanContext().TraceID().String() + "-" + s.SpanContext().SpanID().String() + "-01"
	if got := header.Get("traceparent"); len(got) != 1 || got[0] != want {
		t.Fatalf("response traceparent %v, want %s", got, want)
	}

	off := newEnv(t)
	header = nil
	if _, err := off.stock.GetStock(ctx(t), &pb.GetStockRequest{Sku: "S"}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if len(header.Get("traceparent")) != 0 || len(sr.Ended()) != 1 {
		t.Fatalf("tracing off: traceparent %v, %d spans", header.Get("traceparent"), len(sr.Ended()))
	}
}
