package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/loadgen"
)

// Result is what a run measured. Latencies are in ms, from each order's
// intended send time (open model) or its send time (closed model).
type Result struct {
	RunID       string    `json:"run_id"` // in the run's SKU names (LT-<id>-00000) and customer ids (lt-<id>-N)
	Target      string    `json:"target"`
	Model       string    `json:"model"` // "open" or "closed"
	Concurrency int       `json:"concurrency,omitempty"`
	Started     time.Time `json:"started"`
	Mix         Mix       `json:"mix"`
	Criteria    struct {
		MinConfirmedShare float64 `json:"min_confirmed_share"`
		MaxBacklogGrowth  float64 `json:"max_backlog_growth"`
		MaxP99Ms          float64 `json:"max_p99_ms"`
		MaxErrorShare     float64 `json:"max_error_share"`
	} `json:"criteria"`

	Steps []StepResult `json:"steps"`
	// Sustainable is the highest offered rate of a sustainable step; 0 when
	// none was.
	Sustainable float64 `json:"sustainable_per_second"`

	Accepted  int `json:"accepted"`
	Failed    int `json:"failed"`
	Confirmed int `json:"confirmed"`
	Cancelled int `json:"cancelled"` // by checkout
	Unsettled int `json:"unsettled"`

	Accept         loadgen.Latency `json:"accept_latency"`
	PlaceToConfirm loadgen.Latency `json:"place_to_confirmed_latency"`
	Requests       map[string]int  `json:"requests"`         // op: count
	Errors         map[string]int  `json:"errors_by_status"` // "op status": count
	DrainSeconds   float64         `json:"drain_seconds"`
	Drained        bool            `json:"drained"`
	MaxPollQueue   int             `json:"max_poll_queue"`
	Samples        []Sample        `json:"samples"`

	// Orders is every accepted order and what the loadtest saw of it.
	Orders []OrderOutcome `json:"-"`
}

// OrderOutcome is one accepted order: its last seen state ("confirmed",
// "cancelled" by checkout, "pending") and whether the action the mix gave
// it (none, cancel, ship and deliver) succeeded.
type OrderOutcome struct {
	ID      string
	Outcome string
	After   After
	Acted   bool
}

// result assembles the Result once every goroutine has stopped.
func (r *recorder) result(cfg Config, steps []loadgen.Step, start time.Time) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &Result{RunID: cfg.RunID, Target: cfg.Target, Model: "open", Started: start, Mix: cfg.Mix,
		Requests: maps.Clone(r.requests), Errors: maps.Clone(r.errors), Samples: r.samples,
		Accept: r.accept.Summary(), PlaceToConfirm: r.toConfirm.Summary()}
	if cfg.Concurrency > 0 {
		res.Model, res.Concurrency = "closed", cfg.Concurrency
	}
	res.Criteria.MinConfirmedShare, res.Criteria.MaxBacklogGrowth = cfg.Criteria.MinConfirmedShare, cfg.Criteria.MaxBacklogGrowth
	res.Criteria.MaxP99Ms, res.Criteria.MaxErrorShare = float64(cfg.Criteria.MaxP99.Milliseconds()), cfg.Criteria.MaxErrorShare
	res.Steps = make([]StepResult, len(steps))
	for i, st := range steps {
		a := r.steps[i]
		secs := st.Duration.Seconds()
		s := StepResult{Rate: st.Rate, Duration: secs, Offered: a.offered, Accepted: a.accepted, Failed: a.failed,
			Settled: a.settledInTime, AcceptedPerSec: float64(a.accepted) / secs, SettledPerSec: float64(a.settledInTime) / secs,
			BacklogSlope: slope(a.backlogT, a.backlog), Accept: a.accept.Summary(), PlaceToConfirm: a.toConfirm.Summary()}
		if res.Model == "closed" {
			s.Rate = float64(a.offered) / secs // what the clients offered
		}
		res.Steps[i] = s
	}
	for _, o := range r.orders {
		res.Orders = append(res.Orders, OrderOutcome{ID: o.id, Outcome: o.state.String(), After: o.after, Acted: o.acted})
		s := &res.Steps[o.step]
		switch o.state {
		case confirmed:
			s.Confirmed++
			res.Confirmed++
		case cancelled:
			s.Cancelled++
			res.Cancelled++
		default:
			s.Unsettled++
			res.Unsettled++
		}
	}
	for i := range res.Steps {
		s := &res.Steps[i]
		res.Accepted += s.Accepted
		res.Failed += s.Failed
		cfg.Criteria.judge(s)
		if s.Sustainable {
			res.Sustainable = max(res.Sustainable, s.Rate)
		}
	}
	return res
}

// WriteText writes the summary for a person.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	lat := func(name string, l loadgen.Latency) {
		fmt.Fprintf(&b, "%-18s n=%d p50=%.1fms p90=%.1fms p99=%.1fms p99.9=%.1fms max=%.1fms\n", name, l.Count, l.P50, l.P90, l.P99, l.P999, l.Max)
	}
	fmt.Fprintf(&b, "loadtest %s against %s (%s model", r.RunID, r.Target, r.Model)
	if r.Model == "closed" {
		fmt.Fprintf(&b, ", %d clients", r.Concurrency)
	}
	fmt.Fprintf(&b, "), %d SKUs at Zipf s=%.2f, up to %d lines, payments %.1f%% declined %.1f%% timed out\n",
		r.Mix.SKUs, r.Mix.ZipfS, r.Mix.MaxItems, 100*r.Mix.Declined, 100*r.Mix.TimedOut)
	fmt.Fprintf(&b, "orders             %d accepted, %d failed; %d confirmed, %d cancelled by checkout, %d unsettled\n",
		r.Accepted, r.Failed, r.Confirmed, r.Cancelled, r.Unsettled)
	lat("accept", r.Accept)
	lat("place→confirmed", r.PlaceToConfirm)
	fmt.Fprintf(&b, "drain              %.1fs (drained %v), poll queue max %d\n", r.DrainSeconds, r.Drained, r.MaxPollQueue)
	fmt.Fprintf(&b, "requests           %s\n", joinCounts(r.Requests))
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "errors             %s\n", joinCounts(r.Errors))
	}
	fmt.Fprintf(&b, "\n%-8s %9s %9s %9s %9s %11s %11s %9s  %s\n", "step", "offered/s", "accept/s", "settled/s", "backlog/s", "confirm p50", "confirm p99", "failed", "verdict")
	for i, s := range r.Steps {
		verdict := "sustainable"
		if !s.Sustainable {
			verdict = "NOT sustainable: " + strings.Join(s.Why, "; ")
		}
		fmt.Fprintf(&b, "%-8d %9.1f %9.1f %9.1f %+9.2f %9.0fms %9.0fms %9d  %s\n", i+1, s.Rate, s.AcceptedPerSec, s.SettledPerSec,
			s.BacklogSlope, s.PlaceToConfirm.P50, s.PlaceToConfirm.P99, s.Failed, verdict)
	}
	if r.Sustainable > 0 {
		fmt.Fprintf(&b, "\nhighest sustainable rate: %.1f orders/s\n", r.Sustainable)
	} else {
		b.WriteString("\nno step was sustainable\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func joinCounts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// WriteJSON writes the result to the file at path.
func (r *Result) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
