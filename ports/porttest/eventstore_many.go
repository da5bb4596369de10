package porttest

import (
	"errors"
	"sync"
	"testing"

	"github.com/orderflow/orderflow/ports"
)

// runAppendMany is the AppendMany part of the EventStore contract.
func runAppendMany(t *testing.T, newStore func(t *testing.T) ports.EventStore) {
	runContract(t, newStore, []contractCase[ports.EventStore]{
		{"AppendManyWritesEveryStream", testAppendMany},
		{"AppendManyConflictWritesNothing", testAppendManyConflict},
		{"AppendManyRejectsBadInput", testAppendManyInvalid},
		{"AppendManyConcurrentOverlapOneWins", testAppendManyRace},
		{"AppendManyAnyVersionKeepsStreamOrder", testAnyVersionKeepsStreamOrder},
	})
}

func testAppendMany(t *testing.T, s ports.EventStore) {
	ctx := testContext(t, visibilityTimeout)
	a, b := newStream(), newStream()
	first := newEvents(1)
	mustAppend(t, s, a, ports.NoStream, first, 1)
	ea, eb := newEvents(2), newEvents(3)
	err := s.AppendMany(ctx, []ports.StreamAppend{
		{Stream: a, ExpectedVersion: 1, Events: ea},
		{Stream: b, ExpectedVersion: ports.NoStream, Events: eb},
	})
	if err != nil {
		t.Fatalf("append many: %v", err)
	}
	checkRecorded(t, a, 2, ea, mustLoad(t, s, a, 2))
	checkRecorded(t, b, 1, eb, mustLoad(t, s, b, 1))
	// Every event, from both streams, reaches ReadAll.
	waitForAll(t, s, 6)
}

func testAppendManyConflict(t *testing.T, s ports.EventStore) {
	ctx := testContext(t, visibilityTimeout)
	a, b, c := newStream(), newStream(), newStream()
	mustAppend(t, s, b, ports.NoStream, newEvents(2), 2)
	err := s.AppendMany(ctx, []ports.StreamAppend{
		{Stream: a, ExpectedVersion: ports.NoStream, Events: newEvents(1)},
		{Stream: b, ExpectedVersion: 1, Events: newEvents(1)}, // b is at 2
		{Stream: c, ExpectedVersion: ports.NoStream, Events: newEvents(1)},
	})
	checkConflict(t, err, b, 1, 2)
	for _, st := range []ports.Stream{a, c} {
		if got := mustLoad(t, s, st, 1); len(got) != 0 {
			t.Errorf("%s: %d events written by a failed AppendMany", st, len(got))
		}
	}
	if got := mustLoad(t, s, b, 1); len(got) != 2 {
		t.Errorf("%s: %d events, want the 2 appended before", b, len(got))
	}
}

func testAppendManyInvalid(t *testing.T, s ports.EventStore) {
	ctx := testContext(t, visibilityTimeout)
	a := newStream()
	for name, appends := range map[string][]ports.StreamAppend{
		"no streams":   nil,
		"stream twice": {{Stream: a, Events: newEvents(1)}, {Stream: a, Events: newEvents(1)}},
		"no events":    {{Stream: a}},
	} {
		err := s.AppendMany(ctx, appends)
		if err == nil || errors.Is(err, ports.ErrConcurrency) {
			t.Errorf("%s: err = %v, want an input error", name, err)
		}
	}
	if got := mustLoad(t, s, a, 1); len(got) != 0 {
		t.Errorf("%d events written by invalid calls", len(got))
	}
}

// testAppendManyRace runs writers over overlapping pairs of streams, each
// expecting the versions it read: per round exactly one writer of each
// contended stream wins, no call deadlocks, and each stream's versions stay
// dense.
func testAppendManyRace(t *testing.T, s ports.EventStore) {
	ctx := testContext(t, visibilityTimeout)
	streams := []ports.Stream{newStream(), newStream(), newStream()}
	const writers = 6
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x, y := streams[i%3], streams[(i+1)%3]
			errs[i] = s.AppendMany(ctx, []ports.StreamAppend{
				{Stream: x, ExpectedVersion: ports.NoStream, Events: newEvents(1)},
				{Stream: y, ExpectedVersion: ports.NoStream, Events: newEvents(1)},
			})
		}()
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ports.ErrConcurrency):
			t.Errorf("writer %d: %v, want success or a concurrency conflict", i, err)
		}
	}
	// Any two pairs of three streams overlap, so exactly one writer wins.
	if wins != 1 {
		t.Fatalf("%d writers won, want exactly 1", wins)
	}
	total := 0
	for _, st := range streams {
		got := mustLoad(t, s, st, 1)
		for j, e := range got {
			if e.Version != int64(j+1) {
				t.Errorf("%s: version %d at %d", st, e.Version, j)
			}
		}
		total += len(got)
	}
	if total != 2 {
		t.Fatalf("%d events stored, want 2", total)
	}
}
