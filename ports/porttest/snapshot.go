package porttest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/orderflow/orderflow/ports"
)

// RunSnapshotStore runs the ports.SnapshotStore contract against the stores
// newStore returns: one fresh, empty store per subtest.
func RunSnapshotStore(t *testing.T, newStore func(t *testing.T) ports.SnapshotStore) {
	runContract(t, newStore, []contractCase[ports.SnapshotStore]{
		{"MissingIsNotFound", testSnapshotMissing},
		{"SaveAndLoadExactly", testSnapshotRoundTrip},
		{"OnlyMovesForwardWithinASchema", testSnapshotForward},
		{"OtherSchemaIsReplaced", testSnapshotSchemaReplaced},
		{"StreamsAreSeparate", testSnapshotStreams},
		{"VersionBelowOneIsRejected", testSnapshotVersionZero},
	})
}

func testSnapshotMissing(t *testing.T, s ports.SnapshotStore) {
	_, err := s.LoadSnapshot(testContext(t, visibilityTimeout), newStream())
	if !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("LoadSnapshot of a stream without one: %v, want ErrNotFound", err)
	}
}

func testSnapshotVersionZero(t *testing.T, s ports.SnapshotStore) {
	if err := s.SaveSnapshot(testContext(t, visibilityTimeout), snapshotAt(newStream(), 0, 1, "x")); err == nil {
		t.Fatal("SaveSnapshot at version 0 succeeded")
	}
}

func snapshotAt(stream ports.Stream, version int64, schema int, data string) ports.Snapshot {
	return ports.Snapshot{Stream: stream, Version: version, SchemaVersion: schema, Data: []byte(data),
		TakenAt: time.Now().UTC().Truncate(time.Microsecond)}
}

func mustLoadSnapshot(t *testing.T, s ports.SnapshotStore, stream ports.Stream) ports.Snapshot {
	t.Helper()
	got, err := s.LoadSnapshot(testContext(t, visibilityTimeout), stream)
	if err != nil {
		t.Fatalf("LoadSnapshot %s: %v", stream, err)
	}
	return got
}

func mustSaveSnapshot(t *testing.T, s ports.SnapshotStore, snap ports.Snapshot) {
	t.Helper()
	if err := s.SaveSnapshot(testContext(t, visibilityTimeout), snap); err != nil {
		t.Fatalf("SaveSnapshot %s v%d: %v", snap.Stream, snap.Version, err)
	}
}

func testSnapshotRoundTrip(t *testing.T, s ports.SnapshotStore) {
	// Bytes that are not valid UTF-8 nor JSON: the data is opaque.
	want := snapshotAt(newStream(), 100, 3, "\x00\xff{not json")
	mustSaveSnapshot(t, s, want)
	got := mustLoadSnapshot(t, s, want.Stream)
	if got.Stream != want.Stream || got.Version != want.Version || got.SchemaVersion != want.SchemaVersion ||
		!bytes.Equal(got.Data, want.Data) || !got.TakenAt.Equal(want.TakenAt) {
		t.Fatalf("loaded %+v, saved %+v", got, want)
	}
}

func testSnapshotForward(t *testing.T, s ports.SnapshotStore) {
	stream := newStream()
	mustSaveSnapshot(t, s, snapshotAt(stream, 200, 1, "at 200"))
	mustSaveSnapshot(t, s, snapshotAt(stream, 100, 1, "at 100")) // a slow writer finishing late
	if got := mustLoadSnapshot(t, s, stream); got.Version != 200 || string(got.Data) != "at 200" {
		t.Fatalf("an older snapshot replaced a newer one: %+v", got)
	}
	mustSaveSnapshot(t, s, snapshotAt(stream, 300, 1, "at 300"))
	if got := mustLoadSnapshot(t, s, stream); got.Version != 300 || string(got.Data) != "at 300" {
		t.Fatalf("a newer snapshot was not kept: %+v", got)
	}
}

func testSnapshotSchemaReplaced(t *testing.T, s ports.SnapshotStore) {
	stream := newStream()
	mustSaveSnapshot(t, s, snapshotAt(stream, 500, 1, "old schema"))
	mustSaveSnapshot(t, s, snapshotAt(stream, 400, 2, "new schema"))
	if got := mustLoadSnapshot(t, s, stream); got.SchemaVersion != 2 || got.Version != 400 {
		t.Fatalf("a snapshot of another schema was not replaced: %+v", got)
	}
}

func testSnapshotStreams(t *testing.T, s ports.SnapshotStore) {
	a, b := newStream(), newStream()
	b.Type = "other" // same id space, another aggregate type
	b.ID = a.ID
	mustSaveSnapshot(t, s, snapshotAt(a, 1, 1, "a"))
	mustSaveSnapshot(t, s, snapshotAt(b, 2, 1, "b"))
	if got := mustLoadSnapshot(t, s, a); string(got.Data) != "a" {
		t.Fatalf("stream a holds %q", got.Data)
	}
	if got := mustLoadSnapshot(t, s, b); string(got.Data) != "b" {
		t.Fatalf("stream b holds %q", got.Data)
	}
}
