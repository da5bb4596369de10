package pipelinebench_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/pipelinebench"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/service"
)

// A short run on each store yields a coherent report: every accepted order
// confirmed once the drain ended, latencies and rates that agree with each
// other. No timing target: those live in the README's figures.
func TestRunReportsACoherentRun(t *testing.T) {
	for name, svc := range map[string]service.Config{
		"sqlite":   {},
		"postgres": {PostgresURL: testenv.PostgresBaseURL()},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := pipelinebench.Config{Service: svc, Rate: 20, Duration: 3 * time.Second, Warmup: 500 * time.Millisecond,
				SKUs: 10, CeilingDuration: time.Second, CeilingWorkers: 4, DrainTimeout: 30 * time.Second}
			var logs bytes.Buffer
			r, err := pipelinebench.Run(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})), &bytes.Buffer{})
			if err != nil {
				t.Fatalf("run: %v\nlogs:\n%s", err, logs.String())
			}
			checkReport(t, r, name)
		})
	}
}

func checkReport(t *testing.T, r pipelinebench.Report, store string) {
	t.Helper()
	if r.Store != store || r.Broker != store {
		t.Errorf("store %s, broker %s, want %s", r.Store, r.Broker, store)
	}
	if r.Ceiling == nil || r.Ceiling.Appends == 0 || r.Ceiling.AppendsPerSec <= 0 {
		t.Errorf("ceiling %+v: want appends", r.Ceiling)
	}
	want := 60 // 20/s for 3 s; the warmup's 10 are not measured
	if r.Accepted+r.Failed != want || r.Failed != 0 {
		t.Errorf("accepted %d, failed %d: want %d accepted", r.Accepted, r.Failed, want)
	}
	if !r.Drained || r.Unfinished != 0 || r.Confirmed != r.Accepted || r.Cancelled != 0 {
		t.Errorf("drained %v, unfinished %d, confirmed %d, cancelled %d of %d accepted: want every one confirmed",
			r.Drained, r.Unfinished, r.Confirmed, r.Cancelled, r.Accepted)
	}
	for name, l := range map[string]pipelinebench.Latency{"accept": r.Accept, "place→confirmed": r.PlaceToConfirm} {
		if l.Count != r.Accepted {
			t.Errorf("%s: %d samples, want %d", name, l.Count, r.Accepted)
		}
		if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
			t.Errorf("%s percentiles out of order: %+v", name, l)
		}
	}
	if r.PlaceToConfirm.P50 < r.Accept.P50 {
		t.Errorf("confirmed (p50 %.1fms) before accepted (p50 %.1fms)", r.PlaceToConfirm.P50, r.Accept.P50)
	}
	if r.PostPerSec != float64(r.Accepted)/r.Duration || r.ConfirmedWithDrainPerSec <= 0 || r.ConfirmedInWindowPerSec <= 0 {
		t.Errorf("rates: POST %.1f/s, confirmed %.1f/s in the window, %.1f/s with the drain", r.PostPerSec, r.ConfirmedInWindowPerSec, r.ConfirmedWithDrainPerSec)
	}
	// 70 orders settled (warmup included); the process did work for them,
	// and on Postgres so did the server.
	if r.CPU.Settled != 70 || r.CPU.ProcessSeconds <= 0 || r.CPU.ProcessMsPerOrder != r.CPU.ProcessSeconds*1000/70 ||
		(store == "postgres") != (r.CPU.ServerSeconds > 0) {
		t.Errorf("cpu %+v: want 70 settled, process and (on postgres only) server time", r.CPU)
	}
	if len(r.Samples) < 3 || r.MemoryStart.HeapBytes == 0 || r.MemoryEnd.RSSBytes == 0 {
		t.Errorf("%d samples, memory %+v → %+v: want a sample a second and memory figures", len(r.Samples), r.MemoryStart, r.MemoryEnd)
	}
}

// With --tracing 1 the same run exports its spans over OTLP/HTTP to the
// in-process receiver (flushed at the service's shutdown) and still
// confirms every order; a bad mode is refused.
func TestRunWithTracingExportsSpans(t *testing.T) {
	cfg := pipelinebench.Config{Rate: 20, Duration: 3 * time.Second, Warmup: 500 * time.Millisecond,
		SKUs: 10, SkipCeiling: true, DrainTimeout: 30 * time.Second, Tracing: "1"}
	var logs bytes.Buffer
	r, err := pipelinebench.Run(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("run: %v\nlogs:\n%s", err, logs.String())
	}
	if !r.Drained || r.Confirmed != r.Accepted || r.Accepted != 60 {
		t.Fatalf("drained %v, %d of %d confirmed", r.Drained, r.Confirmed, r.Accepted)
	}
	// 70 orders of a dozen spans or more each, some hundreds of bytes a span.
	if !strings.HasPrefix(r.Tracing, "ratio 1 ") || r.TraceExports == 0 || r.TraceBytes < 70*12*100 {
		t.Fatalf("tracing %q: %d exports, %d bytes", r.Tracing, r.TraceExports, r.TraceBytes)
	}
	cfg.Tracing = "sometimes"
	if _, err := pipelinebench.Run(t.Context(), cfg, slog.New(slog.DiscardHandler), &bytes.Buffer{}); err == nil ||
		!strings.Contains(err.Error(), "--tracing") {
		t.Fatalf("--tracing sometimes: %v", err)
	}
}
