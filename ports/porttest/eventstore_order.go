package porttest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/orderflow/orderflow/ports"
)

// Bounds of the stream-order test: at most 8*50*2 = 800 events on 4 streams.
const (
	orderWriters = 8
	orderCalls   = 50
	orderStreams = 4
)

// testAnyVersionKeepsStreamOrder races AnyVersion AppendMany calls over a few
// shared streams, each call writing one event to two of them, and reads the
// store back with ReadAll: within every stream, versions must come in
// Position order, or a catch-up reader applies v8 before v7. A call may fail
// with a conflict (a store may bound its AnyVersion retries); nothing else.
func testAnyVersionKeepsStreamOrder(t *testing.T, s ports.EventStore) {
	ctx := testContext(t, catchUpTimeout)
	streams := make([]ports.Stream, orderStreams)
	for i := range streams {
		streams[i] = newStream()
	}
	var (
		mu        sync.Mutex
		committed int
		errs      []error
	)
	var wg sync.WaitGroup
	for w := range orderWriters {
		wg.Go(func() {
			for c := range orderCalls {
				// Rotate the pair so that each stream is sometimes the first
				// written in the transaction and sometimes the second.
				x, y := streams[(w+c)%orderStreams], streams[(w+2*c+1)%orderStreams]
				if x == y {
					y = streams[(w+c+1)%orderStreams]
				}
				err := s.AppendMany(ctx, []ports.StreamAppend{
					{Stream: x, ExpectedVersion: ports.AnyVersion, Events: newEvents(1)},
					{Stream: y, ExpectedVersion: ports.AnyVersion, Events: newEvents(1)},
				})
				mu.Lock()
				switch {
				case err == nil:
					committed += 2
				case !errors.Is(err, ports.ErrConcurrency):
					errs = append(errs, fmt.Errorf("writer %d call %d: %w", w, c, err))
				}
				mu.Unlock()
				if ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if committed == 0 {
		t.Fatal("no AppendMany call committed")
	}

	last := make(map[ports.Stream]ports.RecordedEvent)
	reordered := 0
	for _, e := range waitForAll(t, s, committed) {
		prev, seen := last[e.Stream]
		if e.Version != prev.Version+1 {
			reordered++
			if reordered <= 5 {
				t.Errorf("%s: ReadAll delivers v%d at %v after v%d at %v, want v%d next",
					e.Stream, e.Version, e.Position, prev.Version, prev.Position, prev.Version+1)
			}
		}
		if !seen || e.Version > prev.Version {
			last[e.Stream] = e
		}
	}
	if reordered > 0 {
		t.Fatalf("%d of %d events out of version order in ReadAll", reordered, committed)
	}
}
