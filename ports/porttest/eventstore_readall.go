package porttest

import (
	"sync"
	"testing"

	"github.com/orderflow/orderflow/ports"
)

// readAllFrom pages through ReadAll from after until a page comes back empty,
// checking that positions strictly increase and pages respect limit.
func readAllFrom(t *testing.T, s ports.EventStore, after ports.Position, limit int) []ports.RecordedEvent {
	t.Helper()
	var all []ports.RecordedEvent
	for {
		page, err := s.ReadAll(t.Context(), after, limit)
		if err != nil {
			t.Fatalf("ReadAll(%v, %d): %v", after, limit, err)
		}
		if len(page) == 0 {
			return all
		}
		if len(page) > limit {
			t.Fatalf("ReadAll(%v, %d) returned %d events", after, limit, len(page))
		}
		for _, e := range page {
			if !after.Less(e.Position) {
				t.Fatalf("ReadAll: position %v not after %v", e.Position, after)
			}
			after = e.Position
		}
		all = append(all, page...)
	}
}

// waitForAll waits until ReadAll from the start shows exactly n events (more
// fails at once) and returns them.
func waitForAll(t *testing.T, s ports.EventStore, n int) []ports.RecordedEvent {
	t.Helper()
	var all []ports.RecordedEvent
	waitFor(t, visibilityTimeout, "ReadAll to show every committed event", func() (bool, error) {
		all = readAllFrom(t, s, ports.Position{}, 1000)
		if len(all) > n {
			t.Fatalf("ReadAll shows %d events, only %d were committed", len(all), n)
		}
		return len(all) == n, nil
	})
	return all
}

func testReadAll(t *testing.T, s ports.EventStore) {
	a, b, c := newStream(), newStream(), newStream()
	type step struct {
		stream   ports.Stream
		expected int64
		events   []ports.NewEvent
	}
	steps := []step{
		{a, ports.NoStream, newEvents(2)},
		{b, ports.NoStream, newEvents(1)},
		{a, 2, newEvents(1)},
		{c, ports.NoStream, newEvents(3)},
		{b, 1, newEvents(2)},
	}
	type placed struct {
		stream  ports.Stream
		version int64
		event   ports.NewEvent
	}
	var want []placed
	for _, st := range steps {
		res, err := s.Append(t.Context(), st.stream, st.expected, st.events)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		for i, e := range st.events {
			want = append(want, placed{st.stream, st.expected + 1 + int64(i), e})
		}
		if res.NextExpectedVersion != st.expected+int64(len(st.events)) {
			t.Fatalf("NextExpectedVersion %d, want %d", res.NextExpectedVersion, st.expected+int64(len(st.events)))
		}
	}

	// One writer, one append at a time: the store-wide order is append order.
	all := waitForAll(t, s, len(want))
	for i, got := range all {
		w := want[i]
		if got.Stream != w.stream || got.Version != w.version || got.Metadata.EventID != w.event.Metadata.EventID {
			t.Fatalf("ReadAll[%d] = %v v%d %s, want %v v%d %s", i, got.Stream, got.Version,
				got.Metadata.EventID, w.stream, w.version, w.event.Metadata.EventID)
		}
		checkRecorded(t, w.stream, w.version, []ports.NewEvent{w.event}, all[i:i+1])
	}

	// Small pages resumed from the last position read walk the same events.
	paged := readAllFrom(t, s, ports.Position{}, 2)
	if len(paged) != len(all) {
		t.Fatalf("paging by 2 read %d events, want %d", len(paged), len(all))
	}
	for i := range paged {
		if paged[i].Position != all[i].Position || paged[i].Metadata.EventID != all[i].Metadata.EventID {
			t.Fatalf("paging by 2: event %d is %v, want %v", i, paged[i].Position, all[i].Position)
		}
	}
	first, err := s.ReadAll(t.Context(), ports.Position{}, 1)
	if err != nil || len(first) != 1 || first[0].Position != all[0].Position {
		t.Fatalf("ReadAll(zero, 1) = %d events, %v; want the first event", len(first), err)
	}

	// Resuming from the end yields nothing, then exactly what is appended next.
	last := all[len(all)-1].Position
	if rest := readAllFrom(t, s, last, 10); len(rest) != 0 {
		t.Fatalf("ReadAll after the last event: %d events, want none", len(rest))
	}
	d := newStream()
	more := newEvents(2)
	mustAppend(t, s, d, ports.NoStream, more, 2)
	var rest []ports.RecordedEvent
	waitFor(t, visibilityTimeout, "the new events", func() (bool, error) {
		rest = readAllFrom(t, s, last, 10)
		return len(rest) >= len(more), nil
	})
	checkRecorded(t, d, 1, more, rest)
}

// race runs n calls of f at once, released together, and returns their errors.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testSameStreamRace(t *testing.T, s ports.EventStore) {
	const writers = 8
	stream := newStream()
	first := newEvents(1)
	mustAppend(t, s, stream, ports.NoStream, first, 1)

	batches := make([][]ports.NewEvent, writers)
	for i := range batches {
		batches[i] = newEvents(2)
	}
	errs := race(writers, func(i int) error {
		_, err := s.Append(t.Context(), stream, 1, batches[i])
		return err
	})
	winner := checkOneWinner(t, errs, stream, 1, 3)
	checkRecorded(t, stream, 1, append(first, batches[winner]...), mustLoad(t, s, stream, 1))
}

func testNoStreamRace(t *testing.T, s ports.EventStore) {
	const writers = 8
	stream := newStream()
	batches := make([][]ports.NewEvent, writers)
	for i := range batches {
		batches[i] = newEvents(1)
	}
	errs := race(writers, func(i int) error {
		_, err := s.Append(t.Context(), stream, ports.NoStream, batches[i])
		return err
	})
	winner := checkOneWinner(t, errs, stream, ports.NoStream, 1)
	checkRecorded(t, stream, 1, batches[winner], mustLoad(t, s, stream, 1))
}

// checkOneWinner fails unless exactly one error is nil and every other one is
// a conflict at (expected, actual); it returns the winner's index.
func checkOneWinner(t *testing.T, errs []error, stream ports.Stream, expected, actual int64) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("writers %d and %d both appended at version %d", winner, i, expected)
			}
			winner = i
			continue
		}
		checkConflict(t, err, stream, expected, actual)
	}
	if winner < 0 {
		t.Fatalf("no writer won: %v", errs)
	}
	return winner
}
