package loadgen_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/loadgen"
)

// The schedule is the steps back to back, arrival i of a step at the step's
// start + i/rate, and stops at the limit.
func TestScheduleDueTimes(t *testing.T) {
	start := time.Unix(1000, 0)
	s := loadgen.Schedule{Start: start, Steps: []loadgen.Step{{Rate: 2, Duration: 2 * time.Second}, {Rate: 4, Duration: time.Second}}}
	var got []loadgen.Arrival
	s.Each(func(a loadgen.Arrival) bool { got = append(got, a); return true })
	wantOff := []time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond,
		2 * time.Second, 2250 * time.Millisecond, 2500 * time.Millisecond, 2750 * time.Millisecond}
	wantStep := []int{0, 0, 0, 0, 1, 1, 1, 1}
	if len(got) != len(wantOff) {
		t.Fatalf("%d arrivals, want %d: %v", len(got), len(wantOff), got)
	}
	for i, a := range got {
		if a.N != i || a.Step != wantStep[i] || a.Due != start.Add(wantOff[i]) {
			t.Errorf("arrival %d = %+v, want n %d step %d due +%s", i, a, i, wantStep[i], wantOff[i])
		}
	}
	if end := s.End(); end != start.Add(3*time.Second) {
		t.Errorf("end %s, want start+3s", end)
	}
	s.Limit = 3
	n := 0
	s.Each(func(loadgen.Arrival) bool { n++; return true })
	if n != 3 {
		t.Errorf("limit 3: %d arrivals", n)
	}
	n = 0
	s.Limit = 0
	s.Each(func(loadgen.Arrival) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("fn said stop after 2: %d arrivals", n)
	}
}

// Coordinated omission: with one slot and a first call that stalls, the
// arrivals due meanwhile fire late, back to back, and each is given its
// intended due time, so the stall is charged to every request it delayed.
// None is dropped and the schedule does not shift.
func TestOpenChargesTheStallToTheDelayedArrivals(t *testing.T) {
	start := time.Now().Add(20 * time.Millisecond)
	s := loadgen.Schedule{Start: start, Steps: []loadgen.Step{{Rate: 100, Duration: 100 * time.Millisecond}}}
	const stall = 150 * time.Millisecond
	var (
		mu    sync.Mutex
		lat   = map[int]time.Duration{}
		order []int
	)
	loadgen.Open(context.Background(), s, 1, func(a loadgen.Arrival) {
		if want := start.Add(time.Duration(a.N) * 10 * time.Millisecond); a.Due != want {
			t.Errorf("arrival %d due %s, want %s", a.N, a.Due, want)
		}
		if a.N == 0 {
			time.Sleep(stall)
		}
		mu.Lock()
		defer mu.Unlock()
		lat[a.N] = time.Since(a.Due)
		order = append(order, a.N)
	})
	if len(lat) != 10 {
		t.Fatalf("%d arrivals fired, want 10", len(lat))
	}
	for i, n := range order {
		if n != i {
			t.Errorf("fired in order %v", order)
			break
		}
	}
	// Arrival 1 was due 10 ms after 0 but could start only when 0 ended
	// (150 ms): its latency from the due time includes the 140 ms wait.
	if lat[1] < stall-10*time.Millisecond {
		t.Errorf("arrival 1: %s from its due time, want at least %s (the stall it waited out)", lat[1], stall-10*time.Millisecond)
	}
	// The last one was due at 90 ms and also waited for the stall.
	if lat[9] < stall-90*time.Millisecond {
		t.Errorf("arrival 9: %s from its due time, want at least %s", lat[9], stall-90*time.Millisecond)
	}
}

// Open stops scheduling when ctx ends, and returns only after the calls in
// flight returned.
func TestOpenStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := loadgen.Schedule{Start: time.Now(), Steps: []loadgen.Step{{Rate: 1000, Duration: time.Hour}}}
	var fired, running atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		loadgen.Open(ctx, s, 4, func(loadgen.Arrival) {
			running.Add(1)
			if fired.Add(1) == 20 {
				cancel()
			}
			time.Sleep(5 * time.Millisecond)
			running.Add(-1)
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Open did not return after ctx ended")
	}
	if r := running.Load(); r != 0 {
		t.Errorf("%d calls still running when Open returned", r)
	}
	if n := fired.Load(); n < 20 || n > 30 {
		t.Errorf("%d fired, want about 20 (it stops once ctx ends)", n)
	}
}

// The closed model runs workers back to back, up to the limit, and at most
// workers at once.
func TestClosedRunsWorkersUpToTheLimit(t *testing.T) {
	var n, running, most atomic.Int64
	seen := sync.Map{}
	loadgen.Closed(context.Background(), 3, time.Now().Add(time.Minute), 30, func(a loadgen.Arrival) {
		if _, dup := seen.LoadOrStore(a.N, true); dup {
			t.Errorf("arrival %d fired twice", a.N)
		}
		r := running.Add(1)
		for {
			m := most.Load()
			if r <= m || most.CompareAndSwap(m, r) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		running.Add(-1)
		n.Add(1)
	})
	if n.Load() != 30 || most.Load() > 3 {
		t.Errorf("%d calls, at most %d at once: want 30, at most 3", n.Load(), most.Load())
	}
	n.Store(0)
	loadgen.Closed(context.Background(), 2, time.Now().Add(30*time.Millisecond), 0, func(loadgen.Arrival) {
		n.Add(1)
		time.Sleep(5 * time.Millisecond)
	})
	if c := n.Load(); c < 2 || c > 20 {
		t.Errorf("30 ms of 2 workers at 5 ms a call: %d calls", c)
	}
}
