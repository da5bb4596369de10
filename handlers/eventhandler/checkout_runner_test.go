package eventhandler_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/handlers/eventhandler"
)

// queueRunner hands out the checkouts of its queue to claims and those of
// handed to TakeStarted; "slow" runs until release is closed.
type queueRunner struct {
	mu       sync.Mutex
	queue    []string
	handed   []string
	spilled  bool
	claims   int
	attached int
	done     []string
	begun    []string // every run, as it began
	holdAll  bool     // every run waits for release, not only "slow"
	release  chan struct{}
	started  chan struct{}
}

func (q *queueRunner) Attach() func() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.attached++
	return func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.attached--
	}
}

func (q *queueRunner) TakeStarted(limit int) ([]string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(limit, len(q.handed))
	ids := slices.Clone(q.handed[:n])
	q.handed = q.handed[n:]
	spilled := q.spilled
	q.spilled = false
	return ids, spilled
}

// start hands ids to the runner (spill: those beyond go to the queue, as
// Start writes them for a claim when its hand-off is full).
func (q *queueRunner) start(handed, spill []string) {
	q.mu.Lock()
	q.handed = append(q.handed, handed...)
	q.queue = append(q.queue, spill...)
	q.spilled = q.spilled || len(spill) > 0
	q.mu.Unlock()
	q.started <- struct{}{}
}

func (q *queueRunner) ClaimStarted(_ context.Context, limit int) ([]string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.claims++
	n := min(limit, len(q.queue))
	ids := slices.Clone(q.queue[:n])
	q.queue = q.queue[n:]
	return ids, nil
}

func (q *queueRunner) RunStarted(_ context.Context, id string) error {
	q.mu.Lock()
	q.begun = append(q.begun, id)
	hold := q.holdAll
	q.mu.Unlock()
	if id == "slow" || hold {
		<-q.release
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.done = append(q.done, id)
	return nil
}

func (q *queueRunner) Started() <-chan struct{} { return q.started }

func (q *queueRunner) counts() (claims, attached int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.claims, q.attached
}

func (q *queueRunner) finished() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Sorted(slices.Values(q.done))
}

// A checkout that takes its time (a slow payment provider) holds one of
// the runner's slots, not the others: the checkouts behind it run.
func TestASlowCheckoutHoldsOneSlot(t *testing.T) {
	q := &queueRunner{queue: []string{"slow", "a", "b", "c", "d"}, release: make(chan struct{}), started: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		// An interval longer than the test: only the ends of checkouts
		// make it claim again.
		eventhandler.RunCheckouts(ctx, q, 2, time.Hour, slog.New(slog.DiscardHandler))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Equal(q.finished(), []string{"a", "b", "c", "d"}) {
		if time.Now().After(deadline) {
			t.Fatalf("finished %v while the slow one runs, want a, b, c, d", q.finished())
		}
		time.Sleep(time.Millisecond) // poll interval
	}
	close(q.release)
	cancel()
	<-stopped // RunCheckouts waits for the checkouts it runs
	if got := q.finished(); !slices.Contains(got, "slow") {
		t.Fatalf("finished %v, want the slow one too", got)
	}
}

// The checkouts this process started run without a claim; a claim is made
// at the start (those a process that died left), and when the hand-off
// spilled into the database, at once, not at the next interval.
func TestHandedCheckoutsRunWithoutAClaim(t *testing.T) {
	q := &queueRunner{release: make(chan struct{}), started: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		eventhandler.RunCheckouts(ctx, q, 4, time.Hour, slog.New(slog.DiscardHandler))
	}()
	waitFor := func(what string, done func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !done() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: finished %v", what, q.finished())
			}
			time.Sleep(time.Millisecond) // poll interval
		}
	}
	waitFor("the first claim", func() bool { claims, attached := q.counts(); return claims == 1 && attached == 1 })
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		q.start([]string{id}, nil)
	}
	waitFor("handed", func() bool { return len(q.finished()) == 6 })
	if claims, _ := q.counts(); claims != 1 {
		t.Fatalf("%d claims for six handed checkouts, want the first one only", claims)
	}
	q.start([]string{"g"}, []string{"x", "y"})
	waitFor("spilled", func() bool { return slices.Contains(q.finished(), "y") })
	cancel()
	<-stopped
	if _, attached := q.counts(); attached != 0 {
		t.Fatal("the runner did not detach")
	}
	if got := q.finished(); !slices.Equal(got, []string{"a", "b", "c", "d", "e", "f", "g", "x", "y"}) {
		t.Fatalf("finished %v", got)
	}
}

// While checkouts wait in the database (spilled, or left by a process that
// died), those handed to the runner take half its free slots, not all: the
// ones in the database are older than those handed after them, and would
// otherwise wait until the hand-off ran dry (seconds, under a sustained
// load: run (b) of the pipeline bench had a p99 of 16 s at 530/s).
func TestHandedCheckoutsLeaveSlotsToTheClaimedOnes(t *testing.T) {
	q := &queueRunner{handed: []string{"h1", "h2", "h3", "h4", "h5", "h6"}, queue: []string{"q1", "q2", "q3"},
		holdAll: true, release: make(chan struct{}), started: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		eventhandler.RunCheckouts(ctx, q, 4, time.Hour, slog.New(slog.DiscardHandler))
	}()
	deadline := time.Now().Add(10 * time.Second)
	var begun []string
	for len(begun) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("began %v, want 4 runs", begun)
		}
		time.Sleep(time.Millisecond) // poll interval
		q.mu.Lock()
		begun = slices.Clone(q.begun)
		q.mu.Unlock()
	}
	slices.Sort(begun)
	if !slices.Equal(begun, []string{"h1", "h2", "q1", "q2"}) {
		t.Fatalf("the 4 slots ran %v, want two handed and two claimed (h1 h2 q1 q2)", begun)
	}
	close(q.release)
	want := []string{"h1", "h2", "h3", "h4", "h5", "h6", "q1", "q2", "q3"}
	for !slices.Equal(q.finished(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("finished %v, want %v", q.finished(), want)
		}
		select {
		case q.started <- struct{}{}: // wake the runner as Start would
		default:
		}
		time.Sleep(time.Millisecond) // poll interval
	}
	cancel()
	<-stopped
}
