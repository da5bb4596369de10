package loadgen

import (
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency summarizes durations, in milliseconds (float).
type Latency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

// Summarize is the exact summary of ds (it sorts ds): nearest-rank
// percentiles over every sample, for runs of at most a few hundred
// thousand samples.
func Summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	at := func(q float64) float64 {
		i := int(q*float64(len(ds))+0.9999999) - 1 // nearest rank: ceil(q*n)-1
		return ms(ds[min(max(i, 0), len(ds)-1)])
	}
	return Latency{Count: len(ds), Mean: ms(sum / time.Duration(len(ds))),
		P50: at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999), Max: ms(ds[len(ds)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Histogram records durations from 1 µs to 1 hour in an HDR histogram with
// 3 significant digits (a percentile is within 0.1 % of the exact one) in
// fixed memory, for runs of any length. Longer durations count as 1 hour.
// It is not safe for concurrent use.
type Histogram struct{ h *hdrhistogram.Histogram }

// HistogramMax is the longest duration a Histogram tells apart.
const HistogramMax = time.Hour

// NewHistogram returns an empty Histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(1, HistogramMax.Microseconds(), 3)}
}

// Record adds d (clamped to 1 µs … HistogramMax).
func (h *Histogram) Record(d time.Duration) {
	_ = h.h.RecordValue(min(max(d.Microseconds(), 1), HistogramMax.Microseconds())) // in range: cannot fail
}

// Merge adds every sample of o.
func (h *Histogram) Merge(o *Histogram) { h.h.Merge(o.h) }

// Reset empties h.
func (h *Histogram) Reset() { h.h.Reset() }

// Summary is h's summary.
func (h *Histogram) Summary() Latency {
	n := h.h.TotalCount()
	if n == 0 {
		return Latency{}
	}
	at := func(q float64) float64 { return float64(h.h.ValueAtQuantile(q)) / 1000 }
	return Latency{Count: int(n), Mean: h.h.Mean() / 1000, P50: at(50), P90: at(90), P99: at(99), P999: at(99.9),
		Max: float64(h.h.Max()) / 1000}
}
