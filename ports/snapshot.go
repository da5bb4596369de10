package ports

import (
	"context"
	"time"
)

// Snapshot is an aggregate's state at a version of its stream, so loading it
// reads only the events after Version. Data is the aggregate's own encoding;
// SchemaVersion names that encoding, and a reader ignores a snapshot whose
// SchemaVersion is not the one it writes (the events are the truth, the
// snapshot only a cache).
type Snapshot struct {
	Stream        Stream
	Version       int64 // the last stream version the state includes, >= 1
	SchemaVersion int
	Data          []byte
	TakenAt       time.Time
}

// SnapshotStore keeps at most one snapshot per stream, the latest.
//
// SaveSnapshot stores s unless the stream's stored snapshot has the same
// SchemaVersion and a higher Version (then it keeps that one and returns
// nil): snapshots only move forward, whatever order writers finish in.
// A snapshot of another SchemaVersion is always replaced.
//
// LoadSnapshot returns the stream's snapshot, or an error wrapping
// ErrNotFound when it has none.
type SnapshotStore interface {
	SaveSnapshot(ctx context.Context, s Snapshot) error
	LoadSnapshot(ctx context.Context, stream Stream) (Snapshot, error)
}
