package loadgen_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/loadgen"
)

func TestSummarizeIsNearestRank(t *testing.T) {
	if got := loadgen.Summarize(nil); got != (loadgen.Latency{}) {
		t.Errorf("no samples: %+v, want zero", got)
	}
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := loadgen.Summarize(ds)
	want := loadgen.Latency{Count: 100, Mean: 50.5, P50: 50, P90: 90, P99: 99, P999: 100, Max: 100}
	if got != want {
		t.Errorf("Summarize(1..100 ms) = %+v, want %+v", got, want)
	}
}

// The HDR histogram's percentiles are within 0.1 % of the exact ones, and
// it clamps what it cannot hold.
func TestHistogramAgreesWithTheExactSummary(t *testing.T) {
	h := loadgen.NewHistogram()
	if got := h.Summary(); got != (loadgen.Latency{}) {
		t.Errorf("empty: %+v", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var ds []time.Duration
	for range 20000 {
		d := time.Duration(rng.ExpFloat64() * float64(40*time.Millisecond))
		ds = append(ds, d)
		h.Record(d)
	}
	exact, got := loadgen.Summarize(ds), h.Summary()
	if got.Count != exact.Count {
		t.Errorf("count %d, want %d", got.Count, exact.Count)
	}
	for name, pair := range map[string][2]float64{"p50": {got.P50, exact.P50}, "p90": {got.P90, exact.P90},
		"p99": {got.P99, exact.P99}, "p99.9": {got.P999, exact.P999}, "max": {got.Max, exact.Max}, "mean": {got.Mean, exact.Mean}} {
		if math.Abs(pair[0]-pair[1]) > 0.002*pair[1]+0.002 {
			t.Errorf("%s: histogram %.3f ms, exact %.3f ms", name, pair[0], pair[1])
		}
	}

	other := loadgen.NewHistogram()
	other.Record(-time.Second)  // clamped to 1 µs
	other.Record(2 * time.Hour) // clamped to the hour
	h.Merge(other)
	if s := h.Summary(); s.Count != 20002 || s.Max < float64(time.Hour.Milliseconds()) {
		t.Errorf("after merging the clamped ones: %+v", s)
	}
	h.Reset()
	if s := h.Summary(); s.Count != 0 {
		t.Errorf("after Reset: %+v", s)
	}
}
