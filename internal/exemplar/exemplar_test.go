package exemplar_test

import (
	"context"
	"testing"

	"github.com/orderflow/orderflow/internal/exemplar"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/trace"
)

func spanContext(t *testing.T, flags trace.TraceFlags) context.Context {
	t.Helper()
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: flags,
	})
	return trace.ContextWithSpanContext(context.Background(), sc)
}

func exemplars(t *testing.T, h prometheus.Histogram) []*dto.Exemplar {
	t.Helper()
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatal(err)
	}
	var out []*dto.Exemplar
	for _, b := range m.GetHistogram().GetBucket() {
		if e := b.GetExemplar(); e != nil {
			out = append(out, e)
		}
	}
	return out
}

func TestObserve(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want string // the exemplar's trace id, "" for none
	}{
		{"sampled span", spanContext(t, trace.FlagsSampled), "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"span not sampled", spanContext(t, 0), ""},
		{"no span", context.Background(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x_seconds", Help: "x", Buckets: []float64{1, 2}})
			exemplar.Observe(tc.ctx, h, 1.5)
			got := exemplars(t, h)
			switch {
			case tc.want == "" && len(got) != 0:
				t.Fatalf("exemplar recorded without a sampled span: %v", got)
			case tc.want != "" && len(got) != 1:
				t.Fatalf("want one exemplar, got %v", got)
			case tc.want != "":
				l := got[0].GetLabel()
				if len(l) != 1 || l[0].GetName() != exemplar.TraceIDLabel || l[0].GetValue() != tc.want || got[0].GetValue() != 1.5 {
					t.Fatalf("exemplar %v, want trace_id=%s value 1.5", got[0], tc.want)
				}
			}
			var m dto.Metric
			_ = h.Write(&m)
			if m.GetHistogram().GetSampleCount() != 1 {
				t.Fatalf("the observation itself was not recorded: %v", m.GetHistogram())
			}
		})
	}
}
