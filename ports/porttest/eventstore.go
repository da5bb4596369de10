package porttest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// RunEventStore runs the ports.EventStore contract against the stores that
// newStore returns: one fresh, empty store per subtest.
func RunEventStore(t *testing.T, newStore func(t *testing.T) ports.EventStore) {
	runContract(t, newStore, []contractCase[ports.EventStore]{
		{"AppendNewStreamAndLoad", testAppendAndLoad},
		{"WrongExpectedVersionConflicts", testWrongExpectedVersion},
		{"NoStreamOnExistingStreamConflicts", testNoStreamOnExisting},
		{"AnyVersionAppends", testAnyVersion},
		{"ZeroEventsIsAnError", testZeroEvents},
		{"LoadFromVersion", testLoadFromVersion},
		{"LoadUnknownStreamIsEmpty", testLoadUnknown},
		{"ReadAllOrderLimitResume", testReadAll},
		{"ConcurrentAppendsToOneStreamOneWins", testSameStreamRace},
		{"ConcurrentNoStreamOneWins", testNoStreamRace},
		{"CatchUpReaderNeverSkips", testCatchUp},
		{"LoadStreamsIsALoadOfEach", testLoadStreams},
	})
	runAppendMany(t, newStore)
}

// newStream returns a stream no other test uses.
func newStream() ports.Stream {
	return ports.Stream{Type: "order", ID: uuid.NewString()}
}

// newEvents returns n events with unique ids, distinct JSON payloads (written
// with odd spacing, to catch a store that compares bytes instead of values),
// and metadata at microsecond precision, which every store keeps.
func newEvents(n int) []ports.NewEvent {
	occurred := time.Now().UTC().Truncate(time.Microsecond)
	events := make([]ports.NewEvent, n)
	for i := range events {
		id := uuid.Must(uuid.NewV7()).String()
		events[i] = ports.NewEvent{
			Type: fmt.Sprintf("test.happened.v%d", i%3+1),
			Data: fmt.Appendf(nil, `{"n": %d,  "id":"%s", "nested": {"b": [1, 2], "a": "x"}}`, i, id),
			Metadata: ports.EventMetadata{
				EventID:       id,
				CorrelationID: uuid.NewString(),
				CausationID:   uuid.NewString(),
				OccurredAt:    occurred.Add(time.Duration(i) * time.Microsecond),
			},
		}
	}
	return events
}

// checkRecorded fails unless got is the stream's events want, recorded at
// versions firstVersion, firstVersion+1, ... in strictly increasing positions.
func checkRecorded(t *testing.T, stream ports.Stream, firstVersion int64, want []ports.NewEvent, got []ports.RecordedEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	var prev ports.Position
	for i, g := range got {
		w := want[i]
		if g.Stream != stream {
			t.Errorf("event %d: stream %v, want %v", i, g.Stream, stream)
		}
		if g.Version != firstVersion+int64(i) {
			t.Errorf("event %d: version %d, want %d", i, g.Version, firstVersion+int64(i))
		}
		if g.Type != w.Type {
			t.Errorf("event %d: type %q, want %q", i, g.Type, w.Type)
		}
		if !jsonEqual(g.Data, w.Data) {
			t.Errorf("event %d: data %s, want %s", i, g.Data, w.Data)
		}
		checkMetadata(t, i, g.Metadata, w.Metadata)
		if g.RecordedAt.IsZero() {
			t.Errorf("event %d: RecordedAt not set", i)
		}
		if !prev.Less(g.Position) {
			t.Errorf("event %d: position %v not after %v", i, g.Position, prev)
		}
		prev = g.Position
	}
}

func checkMetadata(t *testing.T, i int, got, want ports.EventMetadata) {
	t.Helper()
	if got.EventID != want.EventID || got.CorrelationID != want.CorrelationID || got.CausationID != want.CausationID {
		t.Errorf("event %d: metadata ids %+v, want %+v", i, got, want)
	}
	if !got.OccurredAt.Equal(want.OccurredAt) {
		t.Errorf("event %d: OccurredAt %v, want %v", i, got.OccurredAt, want.OccurredAt)
	}
}

// mustAppend appends and fails the test on error or a wrong next version.
func mustAppend(t *testing.T, s ports.EventStore, stream ports.Stream, expected int64, events []ports.NewEvent, wantNext int64) {
	t.Helper()
	res, err := s.Append(t.Context(), stream, expected, events)
	if err != nil {
		t.Fatalf("Append(%v, expected %d): %v", stream, expected, err)
	}
	if res.NextExpectedVersion != wantNext {
		t.Fatalf("Append(%v): NextExpectedVersion %d, want %d", stream, res.NextExpectedVersion, wantNext)
	}
}

func mustLoad(t *testing.T, s ports.EventStore, stream ports.Stream, from int64) []ports.RecordedEvent {
	t.Helper()
	got, err := s.Load(t.Context(), stream, from)
	if err != nil {
		t.Fatalf("Load(%v, %d): %v", stream, from, err)
	}
	return got
}

// checkConflict fails unless err is a *ports.ConcurrencyError with these fields.
func checkConflict(t *testing.T, err error, stream ports.Stream, expected, actual int64) {
	t.Helper()
	if !errors.Is(err, ports.ErrConcurrency) {
		t.Fatalf("err = %v, want one matching ports.ErrConcurrency", err)
	}
	var ce *ports.ConcurrencyError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *ports.ConcurrencyError in its chain", err)
	}
	if ce.Stream != stream || ce.Expected != expected || ce.Actual != actual {
		t.Errorf("ConcurrencyError = %+v, want stream %v expected %d actual %d", *ce, stream, expected, actual)
	}
}

func testAppendAndLoad(t *testing.T, s ports.EventStore) {
	stream := newStream()
	events := newEvents(3)
	mustAppend(t, s, stream, ports.NoStream, events, 3)
	checkRecorded(t, stream, 1, events, mustLoad(t, s, stream, 1))

	more := newEvents(2)
	mustAppend(t, s, stream, 3, more, 5)
	checkRecorded(t, stream, 1, append(events, more...), mustLoad(t, s, stream, 0))
}

func testWrongExpectedVersion(t *testing.T, s ports.EventStore) {
	stream := newStream()
	events := newEvents(2)
	mustAppend(t, s, stream, ports.NoStream, events, 2)

	for _, expected := range []int64{1, 3, 7} {
		_, err := s.Append(t.Context(), stream, expected, newEvents(2))
		checkConflict(t, err, stream, expected, 2)
	}
	checkRecorded(t, stream, 1, events, mustLoad(t, s, stream, 1))

	// Nothing of the failed appends reached the store-wide log either.
	waitForAll(t, s, 2)
}

func testNoStreamOnExisting(t *testing.T, s ports.EventStore) {
	stream := newStream()
	events := newEvents(1)
	mustAppend(t, s, stream, ports.NoStream, events, 1)
	_, err := s.Append(t.Context(), stream, ports.NoStream, newEvents(1))
	checkConflict(t, err, stream, ports.NoStream, 1)
	checkRecorded(t, stream, 1, events, mustLoad(t, s, stream, 1))
}

func testAnyVersion(t *testing.T, s ports.EventStore) {
	stream := newStream()
	first, second := newEvents(2), newEvents(1)
	mustAppend(t, s, stream, ports.AnyVersion, first, 2)
	mustAppend(t, s, stream, ports.AnyVersion, second, 3)
	checkRecorded(t, stream, 1, append(first, second...), mustLoad(t, s, stream, 1))
}

func testZeroEvents(t *testing.T, s ports.EventStore) {
	stream := newStream()
	for _, events := range [][]ports.NewEvent{nil, {}} {
		if _, err := s.Append(t.Context(), stream, ports.NoStream, events); err == nil {
			t.Errorf("Append(%d events) succeeded, want an error", len(events))
		}
	}
	if got := mustLoad(t, s, stream, 1); len(got) != 0 {
		t.Errorf("Load after empty appends: %d events, want none", len(got))
	}
}

func testLoadFromVersion(t *testing.T, s ports.EventStore) {
	stream := newStream()
	events := newEvents(5)
	mustAppend(t, s, stream, ports.NoStream, events, 5)
	checkRecorded(t, stream, 3, events[2:], mustLoad(t, s, stream, 3))
	checkRecorded(t, stream, 5, events[4:], mustLoad(t, s, stream, 5))
	if got := mustLoad(t, s, stream, 6); len(got) != 0 {
		t.Errorf("Load from 6: %d events, want none", len(got))
	}
}

func testLoadUnknown(t *testing.T, s ports.EventStore) {
	got, err := s.Load(t.Context(), newStream(), 1)
	if err != nil {
		t.Fatalf("Load unknown stream: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("Load unknown stream: %d events, want none", len(got))
	}
}

// testLoadStreams: LoadStreams (every store has it) returns for each
// stream named, once however often it is named, what Load from version 1
// does, and nothing for a stream without events.
func testLoadStreams(t *testing.T, s ports.EventStore) {
	l, ok := s.(ports.StreamsLoader)
	if !ok {
		t.Fatalf("%T is not a ports.StreamsLoader", s)
	}
	a, b, unknown := newStream(), ports.Stream{Type: "inventory", ID: uuid.NewString()}, newStream()
	mustAppend(t, s, a, ports.NoStream, newEvents(3), 3)
	mustAppend(t, s, b, ports.NoStream, newEvents(2), 2)
	mustAppend(t, s, a, 3, newEvents(1), 4)
	got, err := l.LoadStreams(testContext(t, visibilityTimeout), []ports.Stream{b, unknown, a, b})
	if err != nil {
		t.Fatalf("load streams: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("%d streams loaded, want 2 (a stream without events has no entry)", len(got))
	}
	for _, st := range []ports.Stream{a, b} {
		checkSameEvents(t, st, got[st], mustLoad(t, s, st, 1))
	}
}
