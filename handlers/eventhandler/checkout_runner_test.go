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

// queueRunner hands out its queue's checkouts; "slow" runs until release
// is closed.
type queueRunner struct {
	mu      sync.Mutex
	queue   []string
	done    []string
	release chan struct{}
	started chan struct{}
}

func (q *queueRunner) ClaimStarted(_ context.Context, limit int) ([]string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(limit, len(q.queue))
	ids := slices.Clone(q.queue[:n])
	q.queue = q.queue[n:]
	return ids, nil
}

func (q *queueRunner) RunStarted(_ context.Context, id string) error {
	if id == "slow" {
		<-q.release
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.done = append(q.done, id)
	return nil
}

func (q *queueRunner) Started() <-chan struct{} { return q.started }

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
