package loadtest

import (
	"sync"
	"time"

	"github.com/orderflow/orderflow/internal/loadgen"
)

// outcome is where an accepted order stands, as the loadtest last saw it.
type outcome int

const (
	pending outcome = iota
	confirmed
	cancelled // by checkout (a declined or timed-out payment, no stock)
)

func (o outcome) String() string { return [...]string{"pending", "confirmed", "cancelled"}[o] }

// order is one accepted order the loadtest follows.
type order struct {
	id    string
	step  int
	due   time.Time
	after After
	state outcome
	acted bool // its After succeeded
}

// stepAcc accumulates one step.
type stepAcc struct {
	offered, accepted, failed, settledInTime int
	accept, toConfirm                        *loadgen.Histogram
	backlogT, backlog                        []float64 // samples of the step's second half
}

// recorder is the run's state, shared by the load, the pollers, the
// actions and the sampler.
type recorder struct {
	mu        sync.Mutex
	start     time.Time
	grace     time.Duration // a step's orders settled by its end + grace settled in time
	stepStart []time.Time   // step i is [stepStart[i], stepStart[i+1]); the last entry ends the last step
	steps     []stepAcc
	orders    []*order
	accepted  int
	settled   int
	errors    map[string]int // "op code": count
	requests  map[string]int // op: count
	accept    *loadgen.Histogram
	toConfirm *loadgen.Histogram
	sec       second
	samples   []Sample
}

// second accumulates the current second of the time series.
type second struct {
	offered, accepted, failed, confirmed, cancelled int
	accept, toConfirm                               *loadgen.Histogram
}

func newRecorder(start time.Time, steps []loadgen.Step, grace time.Duration) *recorder {
	r := &recorder{start: start, grace: grace, errors: map[string]int{}, requests: map[string]int{},
		accept: loadgen.NewHistogram(), toConfirm: loadgen.NewHistogram(),
		sec: second{accept: loadgen.NewHistogram(), toConfirm: loadgen.NewHistogram()}}
	at := start
	for _, s := range steps {
		r.stepStart = append(r.stepStart, at)
		r.steps = append(r.steps, stepAcc{accept: loadgen.NewHistogram(), toConfirm: loadgen.NewHistogram()})
		at = at.Add(s.Duration)
	}
	r.stepStart = append(r.stepStart, at)
	return r
}

func (r *recorder) request(op string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests[op]++
	if err != nil {
		r.errors[op+" "+errorCode(err)]++
	}
}

// placed records a POST for an order due at due: accepted (o set) or not.
func (r *recorder) placed(step int, due, at time.Time, o *order, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests["place"]++
	s := &r.steps[step]
	s.offered++
	r.sec.offered++
	if err != nil {
		s.failed++
		r.sec.failed++
		r.errors["place "+errorCode(err)]++
		return
	}
	d := at.Sub(due)
	s.accepted++
	s.accept.Record(d)
	r.accept.Record(d)
	r.sec.accepted++
	r.sec.accept.Record(d)
	r.accepted++
	r.orders = append(r.orders, o)
}

// settle records what a read showed: o confirmed or cancelled, at.
func (r *recorder) settle(o *order, state outcome, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o.state != pending {
		return
	}
	o.state = state
	r.settled++
	if !at.After(r.stepStart[o.step+1].Add(r.grace)) {
		r.steps[o.step].settledInTime++
	}
	if state == cancelled {
		r.sec.cancelled++
		return
	}
	d := at.Sub(o.due)
	r.steps[o.step].toConfirm.Record(d)
	r.toConfirm.Record(d)
	r.sec.confirmed++
	r.sec.toConfirm.Record(d)
}

func (r *recorder) acted(o *order) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o.acted = true
}

// backlog is how many accepted orders are not settled yet.
func (r *recorder) backlog() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted - r.settled
}

// Sample is one second of the run: counts in that second (per second, so
// rates), the backlog at its end, and the latencies of what it accepted and
// confirmed (ms).
type Sample struct {
	T          float64 `json:"t"`
	Offered    int     `json:"offered"`
	Accepted   int     `json:"accepted"`
	Failed     int     `json:"failed"`
	Confirmed  int     `json:"confirmed"`
	Cancelled  int     `json:"cancelled"`
	Backlog    int     `json:"backlog"`
	PollQueue  int     `json:"poll_queue"`
	AcceptP50  float64 `json:"accept_p50_ms"`
	AcceptP99  float64 `json:"accept_p99_ms"`
	ConfirmP50 float64 `json:"confirm_p50_ms"`
	ConfirmP99 float64 `json:"confirm_p99_ms"`
}

// sample closes the current second at now and starts the next.
func (r *recorder) sample(now time.Time, pollQueue int) Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, c := r.sec.accept.Summary(), r.sec.toConfirm.Summary()
	s := Sample{T: now.Sub(r.start).Seconds(), Offered: r.sec.offered, Accepted: r.sec.accepted, Failed: r.sec.failed,
		Confirmed: r.sec.confirmed, Cancelled: r.sec.cancelled, Backlog: r.accepted - r.settled, PollQueue: pollQueue,
		AcceptP50: a.P50, AcceptP99: a.P99, ConfirmP50: c.P50, ConfirmP99: c.P99}
	r.sec.accept.Reset()
	r.sec.toConfirm.Reset()
	r.sec = second{accept: r.sec.accept, toConfirm: r.sec.toConfirm}
	r.samples = append(r.samples, s)
	// A step's second half includes its end: the sample taken as it ends
	// is its last backlog (a 2 s step has two samples there).
	for i := range r.steps {
		half := r.stepStart[i].Add(r.stepStart[i+1].Sub(r.stepStart[i]) / 2)
		if !now.Before(half) && !now.After(r.stepStart[i+1]) {
			r.steps[i].backlogT = append(r.steps[i].backlogT, s.T)
			r.steps[i].backlog = append(r.steps[i].backlog, float64(s.Backlog))
		}
	}
	return s
}
