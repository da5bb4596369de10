package porttest

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// StatesStores are an event store and the snapshot store of its database.
type StatesStores struct {
	Events    ports.EventStore
	Snapshots ports.SnapshotStore
}

// RunStatesLoader runs the ports.StatesLoader contract against the stores
// that newStores returns: one fresh, empty pair per subtest, whose event
// store is a ports.StatesLoader.
func RunStatesLoader(t *testing.T, newStores func(t *testing.T) StatesStores) {
	runContract(t, newStores, []contractCase[StatesStores]{
		{"SnapshotAndTheEventsAfterIt", testStatesFromSnapshot},
		{"FromAVersionReadsNoSnapshot", testStatesFromVersion},
	})
}

// statesFixture: stream a has five events and a snapshot at version 3, b
// two events and none, c nothing.
func statesFixture(t *testing.T, s StatesStores) (ports.StatesLoader, ports.Stream, ports.Stream, ports.Stream) {
	t.Helper()
	l, ok := s.Events.(ports.StatesLoader)
	if !ok {
		t.Fatalf("%T is not a ports.StatesLoader", s.Events)
	}
	a, b, c := newStream(), ports.Stream{Type: "inventory", ID: uuid.NewString()}, newStream()
	mustAppend(t, s.Events, a, ports.NoStream, newEvents(5), 5)
	mustAppend(t, s.Events, b, ports.NoStream, newEvents(2), 2)
	snap := ports.Snapshot{Stream: a, Version: 3, SchemaVersion: 2, Data: []byte("state at 3"),
		TakenAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := s.Snapshots.SaveSnapshot(t.Context(), snap); err != nil {
		t.Fatal(err)
	}
	return l, a, b, c
}

// testStatesFromSnapshot: a read from 0 is the stream's snapshot and the
// events after it, or every event without one; each stream read, once
// however often it is named, has an entry, empty for a stream without
// events. Taking the locks outside a unit of work changes nothing.
func testStatesFromSnapshot(t *testing.T, s StatesStores) {
	l, a, b, c := statesFixture(t, s)
	for _, lock := range []bool{false, true} {
		got, err := l.LoadStates(testContext(t, visibilityTimeout),
			[]ports.StateRead{{Stream: b}, {Stream: c}, {Stream: a}, {Stream: b}}, lock)
		if err != nil {
			t.Fatalf("load states (lock %v): %v", lock, err)
		}
		if len(got) != 3 {
			t.Fatalf("%d states, want 3 (one a stream read)", len(got))
		}
		snap := got[a].Snapshot
		if snap == nil || snap.Stream != a || snap.Version != 3 || snap.SchemaVersion != 2 ||
			string(snap.Data) != "state at 3" || snap.TakenAt.IsZero() {
			t.Fatalf("a's snapshot: %+v, want version 3 of schema 2", snap)
		}
		checkSameEvents(t, a, got[a].Events, mustLoad(t, s.Events, a, 4))
		if got[b].Snapshot != nil || got[c].Snapshot != nil {
			t.Fatal("a snapshot for a stream without one")
		}
		checkSameEvents(t, b, got[b].Events, mustLoad(t, s.Events, b, 1))
		if len(got[c].Events) != 0 {
			t.Fatalf("%d events of a stream without any", len(got[c].Events))
		}
	}
}

// testStatesFromVersion: a read from a version is the events from it, and
// no snapshot, even where the stream has one.
func testStatesFromVersion(t *testing.T, s StatesStores) {
	l, a, b, _ := statesFixture(t, s)
	got, err := l.LoadStates(testContext(t, visibilityTimeout),
		[]ports.StateRead{{Stream: a, From: 2}, {Stream: b, From: 3}}, false)
	if err != nil {
		t.Fatalf("load states: %v", err)
	}
	if got[a].Snapshot != nil {
		t.Fatal("a snapshot read with From > 0")
	}
	checkSameEvents(t, a, got[a].Events, mustLoad(t, s.Events, a, 2))
	if len(got[b].Events) != 0 {
		t.Fatalf("%d events of b from past its end", len(got[b].Events))
	}
}

// checkSameEvents fails unless got are want, field by field.
func checkSameEvents(t *testing.T, st ports.Stream, got, want []ports.RecordedEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", st, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Stream != w.Stream || g.Version != w.Version || g.Position != w.Position || g.Type != w.Type ||
			!jsonEqual(g.Data, w.Data) || g.Metadata != w.Metadata || !g.RecordedAt.Equal(w.RecordedAt) {
			t.Errorf("%s event %d: %+v, want %+v", st, i, g, w)
		}
	}
}
