package router

import (
	"context"
	"errors"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/trace"
)

// The handler histogram keeps Watermill's name and labels, and takes the
// trace of the message's context, as the handler left it, as its exemplar.
func TestHandlerExecutionExemplar(t *testing.T) {
	reg := prometheus.NewRegistry()
	r, err := message.NewRouter(message.RouterConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := addRouterMetrics(r, reg); err != nil {
		t.Fatal(err)
	}
	if err := addRouterMetrics(r, reg); err != nil { // a second router on the registry shares it
		t.Fatal(err)
	}
	hs := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "orderflow", Subsystem: "router",
		Name: "handler_execution_time_seconds", Buckets: handlerBuckets,
		Help: "The total time elapsed while executing the handler function in seconds"}, []string{"handler_name", "success"})
	var are prometheus.AlreadyRegisteredError
	if err := reg.Register(hs); !errors.As(err, &are) {
		t.Fatalf("the histogram is not registered under Watermill's name: %v", err)
	}
	h := are.ExistingCollector.(*prometheus.HistogramVec)

	traceID := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	withSpan := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled}))
	mw := handlerExecution(h)
	traced := mw(func(msg *message.Message) ([]*message.Message, error) {
		msg.SetContext(withSpan) // as a tracing middleware inside this one does
		return nil, nil
	})
	plain := mw(func(*message.Message) ([]*message.Message, error) { return nil, errors.New("boom") })
	// (Outside a router the handler name is empty: success tells them apart.)
	if _, err := traced(message.NewMessage("1", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := plain(message.NewMessage("2", nil)); err == nil {
		t.Fatal("the failing handler's error was lost")
	}

	find := func(handler, success string) *dto.Histogram {
		var m dto.Metric
		if err := h.WithLabelValues(handler, success).(prometheus.Histogram).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetHistogram()
	}
	var found []string
	for _, b := range find("", "true").GetBucket() {
		if e := b.GetExemplar(); e != nil {
			found = append(found, e.GetLabel()[0].GetName()+"="+e.GetLabel()[0].GetValue())
		}
	}
	if len(found) != 1 || found[0] != "trace_id="+traceID.String() {
		t.Fatalf("traced handler: exemplars %v, want one trace_id=%s", found, traceID)
	}
	plainH := find("", "false")
	if plainH.GetSampleCount() != 1 {
		t.Fatalf("the failed handler was not observed with success=false: %v", plainH)
	}
	for _, b := range plainH.GetBucket() {
		if b.GetExemplar() != nil {
			t.Fatalf("exemplar without a span: %v", b.GetExemplar())
		}
	}
}
