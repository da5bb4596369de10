package loadtest

import (
	"errors"
	"fmt"
	"time"

	"github.com/orderflow/orderflow/internal/defaults"
	"github.com/orderflow/orderflow/internal/loadgen"
)

// Criteria say when a step's rate is sustainable. All four must hold:
//
//   - throughput: of the orders offered (due) in the step, at least
//     MinConfirmedShare were settled (seen confirmed, or cancelled by
//     checkout) no later than MaxP99 after the step ended. Settled rather
//     than confirmed, because declined payments are cancelled by design;
//     timed-out ones settle only at the service's checkout deadline, so
//     they count against the share. Counting the step's own orders, not
//     what settled inside the window, keeps a slow but steady pipeline
//     from being charged for the orders still in flight at the step's end;
//   - no growing backlog: the least-squares slope of the backlog (accepted,
//     not yet settled) over the step's second half is at most
//     MaxBacklogGrowth × the offered rate, per second;
//   - latency: the place→confirmed p99 of the step's confirmed orders is at
//     most MaxP99, and at most 1 % of the step's accepted orders were never
//     settled (they would count as over any threshold);
//   - errors: POSTs not accepted are at most MaxErrorShare of those offered.
//
// DefaultCriteria are the flags': 0.95, 5 %, 2 s, 1 %. A zero
// MinConfirmedShare or MaxP99 takes its default; a zero MaxBacklogGrowth or
// MaxErrorShare means none allowed.
type Criteria struct {
	MinConfirmedShare float64
	MaxBacklogGrowth  float64
	MaxP99            time.Duration
	MaxErrorShare     float64
}

// maxUnsettledShare is the share of a step's accepted orders never settled
// above which its p99 is unknown, and so over any threshold.
const maxUnsettledShare = 0.01

// DefaultCriteria is the flags' criteria.
func DefaultCriteria() Criteria {
	return Criteria{MinConfirmedShare: 0.95, MaxBacklogGrowth: 0.05, MaxP99: 2 * time.Second, MaxErrorShare: 0.01}
}

func (c *Criteria) setDefaults() {
	def := DefaultCriteria()
	defaults.Set(&c.MinConfirmedShare, def.MinConfirmedShare)
	defaults.Set(&c.MaxP99, def.MaxP99)
}

func (c Criteria) validate() error {
	var errs []error
	if c.MinConfirmedShare <= 0 || c.MinConfirmedShare > 1 {
		errs = append(errs, errors.New("--min-confirmed-share must be in (0, 1]"))
	}
	if c.MaxBacklogGrowth < 0 || c.MaxErrorShare < 0 || c.MaxErrorShare > 1 {
		errs = append(errs, errors.New("--max-backlog-growth and --max-error-share must not be negative (and the share at most 1)"))
	}
	if c.MaxP99 <= 0 {
		errs = append(errs, errors.New("--max-p99 must be positive"))
	}
	return errors.Join(errs...)
}

// StepResult is one step of the run: its offered rate and what the service
// made of it. Rates are per second over the step's duration.
type StepResult struct {
	Rate      float64 `json:"offered_per_second"`
	Duration  float64 `json:"duration_seconds"`
	Offered   int     `json:"offered"`
	Accepted  int     `json:"accepted"`
	Failed    int     `json:"failed"`
	Confirmed int     `json:"confirmed"`       // of the step's orders, by the end of the drain
	Cancelled int     `json:"cancelled"`       // of the step's orders, by checkout
	Unsettled int     `json:"unsettled"`       // of the step's accepted orders, at the end of the drain
	Settled   int     `json:"settled_in_time"` // of the step's orders, by MaxP99 after the step's end

	AcceptedPerSec float64 `json:"accepted_per_second"`
	SettledPerSec  float64 `json:"settled_per_second"`
	BacklogSlope   float64 `json:"backlog_slope_per_second"` // over the second half

	Accept         loadgen.Latency `json:"accept_latency"`
	PlaceToConfirm loadgen.Latency `json:"place_to_confirmed_latency"`

	Sustainable bool     `json:"sustainable"`
	Why         []string `json:"why_not,omitempty"`
}

// judge sets s.Sustainable, and s.Why to each criterion it misses.
func (c Criteria) judge(s *StepResult) {
	s.Why = nil
	offered := max(s.Offered, 1)
	if share := float64(s.Settled) / float64(offered); share < c.MinConfirmedShare {
		s.Why = append(s.Why, fmt.Sprintf("%.1f%% of offered settled in time (want ≥ %.0f%%)", 100*share, 100*c.MinConfirmedShare))
	}
	if limit := c.MaxBacklogGrowth * s.Rate; s.BacklogSlope > limit {
		s.Why = append(s.Why, fmt.Sprintf("backlog grew %.1f/s over the second half (want ≤ %.1f/s)", s.BacklogSlope, limit))
	}
	if p99 := time.Duration(s.PlaceToConfirm.P99 * float64(time.Millisecond)); p99 > c.MaxP99 {
		s.Why = append(s.Why, fmt.Sprintf("place→confirmed p99 %s (want ≤ %s)", p99.Round(time.Millisecond), c.MaxP99))
	}
	if share := float64(s.Unsettled) / float64(max(s.Accepted, 1)); share > maxUnsettledShare {
		s.Why = append(s.Why, fmt.Sprintf("%.1f%% of accepted orders never settled (p99 unknown; want ≤ %.0f%%)", 100*share, 100*maxUnsettledShare))
	}
	if share := float64(s.Failed) / float64(offered); share > c.MaxErrorShare {
		s.Why = append(s.Why, fmt.Sprintf("%.1f%% of POSTs failed (want ≤ %.1f%%)", 100*share, 100*c.MaxErrorShare))
	}
	s.Sustainable = len(s.Why) == 0
}

// slope is the least-squares slope of ys over xs; 0 with fewer than two
// distinct xs.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if len(xs) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}
