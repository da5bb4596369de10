package loadtest

import (
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/loadgen"
)

// Each criterion alone makes a step unsustainable, and says so.
func TestVerdict(t *testing.T) {
	c := DefaultCriteria()
	good := StepResult{Rate: 100, Duration: 20, Offered: 2000, Accepted: 2000, Settled: 1950, BacklogSlope: 1,
		PlaceToConfirm: loadgen.Latency{P99: 1500}}
	for _, tc := range []struct {
		name   string
		change func(*StepResult)
		want   string // empty: sustainable
	}{
		{"all within", func(*StepResult) {}, ""},
		{"exactly at the limits", func(s *StepResult) {
			s.Settled, s.BacklogSlope, s.PlaceToConfirm.P99, s.Failed, s.Unsettled = 1900, 5, 2000, 20, 20
		}, ""},
		{"too few settled in time", func(s *StepResult) { s.Settled = 1899 }, "settled in time"},
		{"backlog growing", func(s *StepResult) { s.BacklogSlope = 5.1 }, "backlog grew"},
		{"p99 too slow", func(s *StepResult) { s.PlaceToConfirm.P99 = 2001 }, "p99 2.001s"},
		{"orders never settled", func(s *StepResult) { s.Unsettled = 21 }, "never settled"},
		{"POSTs failing", func(s *StepResult) { s.Failed = 21 }, "POSTs failed"},
		{"nothing offered", func(s *StepResult) { *s = StepResult{Rate: 100} }, "settled in time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			tc.change(&s)
			c.judge(&s)
			why := strings.Join(s.Why, "; ")
			switch {
			case tc.want == "" && !s.Sustainable:
				t.Errorf("not sustainable: %s", why)
			case tc.want != "" && (s.Sustainable || !strings.Contains(why, tc.want) || len(s.Why) != 1):
				t.Errorf("sustainable %v, why %q: want only %q", s.Sustainable, why, tc.want)
			}
		})
	}
}

func TestSlope(t *testing.T) {
	for _, c := range []struct {
		xs, ys []float64
		want   float64
	}{
		{nil, nil, 0},
		{[]float64{1}, []float64{5}, 0},
		{[]float64{3, 3}, []float64{1, 9}, 0},
		{[]float64{1, 2, 3, 4}, []float64{10, 12, 14, 16}, 2},
		{[]float64{1, 2, 3, 4}, []float64{10, 9, 11, 10}, 0.2},
	} {
		if got := slope(c.xs, c.ys); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("slope(%v, %v) = %g, want %g", c.xs, c.ys, got, c.want)
		}
	}
}

func TestCriteriaValidate(t *testing.T) {
	for _, c := range []struct {
		crit Criteria
		want string
	}{
		{Criteria{MinConfirmedShare: 1.5, MaxP99: time.Second}, "--min-confirmed-share"},
		{Criteria{MinConfirmedShare: 0.9, MaxBacklogGrowth: -1, MaxP99: time.Second}, "--max-backlog-growth"},
		{Criteria{MinConfirmedShare: 0.9, MaxErrorShare: 2, MaxP99: time.Second}, "--max-error-share"},
		{Criteria{MinConfirmedShare: 0.9, MaxP99: -time.Second}, "--max-p99"},
	} {
		if err := c.crit.validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", c.crit, err, c.want)
		}
	}
}

// Zero criteria: the share and p99 take their defaults, the others allow
// nothing.
func TestCriteriaZeroValues(t *testing.T) {
	c := Criteria{}
	c.setDefaults()
	if want := (Criteria{MinConfirmedShare: 0.95, MaxP99: 2 * time.Second}); c != want {
		t.Errorf("zero criteria with defaults: %+v, want %+v", c, want)
	}
	s := StepResult{Rate: 10, Offered: 100, Accepted: 99, Failed: 1, Settled: 99, BacklogSlope: 0.01}
	c.judge(&s)
	if why := strings.Join(s.Why, "; "); !strings.Contains(why, "POSTs failed") || !strings.Contains(why, "backlog grew") {
		t.Errorf("one failure and a slight growth with zero allowed: %q", why)
	}
}
