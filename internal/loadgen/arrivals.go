// Package loadgen is what the two load generators share, the in-process
// pipeline benchmark (internal/pipelinebench) and the operator's loadtest
// against a running service (internal/loadtest): the open-model arrival
// schedule with coordinated omission corrected, and latency summaries.
package loadgen

import (
	"context"
	"sync"
	"time"
)

// Step is a stretch of the schedule at one arrival rate.
type Step struct {
	Rate     float64       // arrivals per second, > 0
	Duration time.Duration // > 0
}

// Schedule is the intended send time of every arrival of an open model:
// the steps one after the other from Start, arrival i of a step due at the
// step's start + i/rate. Limit, when > 0, ends the schedule after that many
// arrivals in all.
type Schedule struct {
	Start time.Time
	Steps []Step
	Limit int
}

// Arrival is one due arrival: N counts from 0 over the whole schedule,
// Step is the index of its step.
type Arrival struct {
	N    int
	Step int
	Due  time.Time
}

// Each calls fn for every arrival in order of due time, until fn returns
// false.
func (s Schedule) Each(fn func(Arrival) bool) {
	n := 0
	stepStart := s.Start
	for si, st := range s.Steps {
		for i := 0; ; i++ {
			if s.Limit > 0 && n >= s.Limit {
				return
			}
			off := time.Duration(float64(i) / st.Rate * float64(time.Second))
			if off >= st.Duration {
				break
			}
			if !fn(Arrival{N: n, Step: si, Due: stepStart.Add(off)}) {
				return
			}
			n++
		}
		stepStart = stepStart.Add(st.Duration)
	}
}

// End is when the last step ends.
func (s Schedule) End() time.Time {
	end := s.Start
	for _, st := range s.Steps {
		end = end.Add(st.Duration)
	}
	return end
}

// Open calls fire for every arrival of s at its due time, from at most limit
// goroutines at once. When all are busy, due arrivals wait and fire late,
// back to back: the schedule never slows down for a slow server (an open
// model), and fire is given the due time to measure latency from, so the
// wait is charged to the server (coordinated omission corrected). It stops
// scheduling when ctx ends and returns once every fired call has returned.
func Open(ctx context.Context, s Schedule, limit int, fire func(Arrival)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	s.Each(func(a Arrival) bool {
		if d := time.Until(a.Due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return false
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fire(a)
		})
		return true
	})
}

// Closed runs workers goroutines that each call fire back to back (a closed
// model: the next request waits for the previous answer, so the server
// sets the rate), until end, ctx ends or limit calls (when > 0) have
// started. Each call is an Arrival of step 0 due when it starts: a closed
// model has no intended send time, which is why its latencies are not
// corrected for coordinated omission and the open model is the default.
func Closed(ctx context.Context, workers int, end time.Time, limit int, fire func(Arrival)) {
	var (
		mu sync.Mutex
		n  int
		wg sync.WaitGroup
	)
	next := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil || !time.Now().Before(end) || (limit > 0 && n >= limit) {
			return 0, false
		}
		n++
		return n - 1, true
	}
	for range workers {
		wg.Go(func() {
			for {
				i, ok := next()
				if !ok {
					return
				}
				fire(Arrival{N: i, Due: time.Now()})
			}
		})
	}
	wg.Wait()
}
