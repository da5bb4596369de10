package pipelinebench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Report is everything one run measured. Rates are per second; the
// measured window is Duration long and follows the warmup.
type Report struct {
	Store       string  `json:"store"`
	Broker      string  `json:"broker"`
	SKUs        int     `json:"skus"`
	Hot         bool    `json:"hot"`
	Rate        int     `json:"rate"`
	Duration    float64 `json:"duration_seconds"`
	Warmup      float64 `json:"warmup_seconds"`
	Concurrency int     `json:"concurrency"`
	// Tracing is the service's tracing during the run; TraceExports and
	// TraceBytes what the in-process receiver got (after the flush at
	// shutdown).
	Tracing      string `json:"tracing"`
	TraceExports int64  `json:"trace_exports,omitempty"`
	TraceBytes   int64  `json:"trace_bytes,omitempty"`

	Ceiling *CeilingReport `json:"ceiling,omitempty"`

	// Orders due in the measured window: accepted (201), failed (any other
	// answer or no answer), then confirmed or cancelled by the saga.
	Accepted  int `json:"accepted"`
	Failed    int `json:"failed"`
	Confirmed int `json:"confirmed"`
	Cancelled int `json:"cancelled"`
	// Unfinished counts accepted orders of the whole run (warmup included)
	// neither confirmed nor cancelled when the drain ended.
	Unfinished int `json:"unfinished"`

	PostPerSec float64 `json:"post_accepted_per_second"`
	// ConfirmedInWindowPerSec counts every confirmation committed inside
	// the window; ConfirmedWithDrainPerSec is the window's orders over the
	// time from the window's start to the last one's confirmation.
	ConfirmedInWindowPerSec  float64 `json:"confirmed_in_window_per_second"`
	ConfirmedWithDrainPerSec float64 `json:"confirmed_with_drain_per_second"`
	PostOverCeiling          float64 `json:"post_over_ceiling,omitempty"`
	ConfirmedOverCeiling     float64 `json:"confirmed_over_ceiling,omitempty"`

	// DrainSeconds is how long the backlog took to empty after the last
	// order was due; Drained is false when DrainTimeout ended it first.
	DrainSeconds float64 `json:"drain_seconds"`
	Drained      bool    `json:"drained"`

	// Latencies from each order's due time: to its 201, and to the commit
	// of its order.confirmed event (the store's clock).
	Accept         Latency `json:"accept_latency"`
	PlaceToConfirm Latency `json:"place_to_confirmed_latency"`

	// CPU is the time used from the first order to the end of the drain.
	CPU CPU `json:"cpu"`

	MemoryStart Memory   `json:"memory_start"`
	MemoryEnd   Memory   `json:"memory_end"`
	Samples     []Sample `json:"samples"`
}

// Sample is the state of the run once a second: seconds since the first
// order was due, orders accepted and confirmed so far, the backlog (accepted,
// neither confirmed nor cancelled) and memory.
type Sample struct {
	T         float64 `json:"t"`
	Accepted  int     `json:"accepted"`
	Confirmed int     `json:"confirmed"`
	Backlog   int     `json:"backlog"`
	Memory
}

// WriteText writes the report for a person.
func (r Report) WriteText(w io.Writer) error {
	mb := func(b uint64) float64 { return float64(b) / (1 << 20) }
	lat := func(name string, l Latency) string {
		return fmt.Sprintf("%-22s n=%d p50=%.1fms p90=%.1fms p99=%.1fms p99.9=%.1fms max=%.1fms\n", name, l.Count, l.P50, l.P90, l.P99, l.P999, l.Max)
	}
	var s string
	s += fmt.Sprintf("store=%s broker=%s skus=%d hot=%v rate=%d/s duration=%s warmup=%s concurrency=%d\n",
		r.Store, r.Broker, r.SKUs, r.Hot, r.Rate, secs(r.Duration), secs(r.Warmup), r.Concurrency)
	s += fmt.Sprintf("tracing                %s", r.Tracing)
	if r.TraceExports > 0 {
		s += fmt.Sprintf(" (%d exports, %.1f MiB)", r.TraceExports, mb(uint64(r.TraceBytes)))
	}
	s += "\n"
	if r.Ceiling != nil {
		s += fmt.Sprintf("ceiling                %.0f appends/s (%d appends, %d workers, %d errors)\n",
			r.Ceiling.AppendsPerSec, r.Ceiling.Appends, r.Ceiling.Workers, r.Ceiling.Errors)
	}
	s += fmt.Sprintf("POST accepted          %.1f/s (%d accepted, %d failed)\n", r.PostPerSec, r.Accepted, r.Failed)
	s += fmt.Sprintf("confirmed              %.1f/s in the window, %.1f/s with the drain (%d confirmed, %d cancelled)\n",
		r.ConfirmedInWindowPerSec, r.ConfirmedWithDrainPerSec, r.Confirmed, r.Cancelled)
	if r.Ceiling != nil {
		s += fmt.Sprintf("ratios                 POST/ceiling %.3f, confirmed/ceiling %.3f\n", r.PostOverCeiling, r.ConfirmedOverCeiling)
	}
	s += fmt.Sprintf("drain                  %.1fs (drained %v, %d unfinished)\n", r.DrainSeconds, r.Drained, r.Unfinished)
	s += lat("accept latency", r.Accept) + lat("place→confirmed", r.PlaceToConfirm)
	maxBacklog := 0
	for _, x := range r.Samples {
		maxBacklog = max(maxBacklog, x.Backlog)
	}
	s += fmt.Sprintf("backlog                max %d\n", maxBacklog)
	s += fmt.Sprintf("cpu per order          %.2fms this process (%.1fs for %d settled)", r.CPU.ProcessMsPerOrder, r.CPU.ProcessSeconds, r.CPU.Settled)
	if r.CPU.ServerSeconds > 0 {
		s += fmt.Sprintf(", %.2fms PostgreSQL server (%.1fs, the whole server)", r.CPU.ServerMsPerOrder, r.CPU.ServerSeconds)
	}
	s += "\n"
	s += fmt.Sprintf("memory                 rss %.0f→%.0f MiB, heap %.0f→%.0f MiB\n",
		mb(r.MemoryStart.RSSBytes), mb(r.MemoryEnd.RSSBytes), mb(r.MemoryStart.HeapBytes), mb(r.MemoryEnd.HeapBytes))
	_, err := io.WriteString(w, s)
	return err
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// WriteJSON writes the report to the file at path.
func (r Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
