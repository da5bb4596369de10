package repository

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/meta"
	"github.com/orderflow/orderflow/ports"
)

// Aggregate is what the generic repository needs of an event-sourced
// aggregate with events E.
type Aggregate[E Typed] interface {
	OriginalVersion() int64
	Changes() []E
}

// Typed is an event with a stable, versioned type name.
type Typed interface{ EventType() string }

// Codec tells the generic repository how to store one aggregate type.
type Codec[A Aggregate[E], E Typed] struct {
	// StreamType is the aggregate type, the stream type of every stream.
	StreamType string
	// Fold rebuilds the aggregate with this id from its events; with no
	// events it returns the aggregate's initial state.
	Fold   func(id string, events []E) A
	Encode func(E) ([]byte, error)
	Decode func(eventType string, data []byte) (E, error)
	// State, when set, lets EnableSnapshots keep snapshots of the type.
	State *StateCodec[A, E]
}

// StateCodec stores an aggregate's state as a snapshot.
type StateCodec[A Aggregate[E], E Typed] struct {
	SchemaVersion int
	Encode        func(A) ([]byte, error)
	Decode        func(data []byte) (A, error)
	// Apply continues a decoded state with the stream's events after it.
	Apply func(A, []E) A
	// Version is the stream version a state (with no changes) is at.
	Version func(A) int64
}

// Aggregates is a repository for one aggregate type whose unknown streams
// are a valid initial state (a SKU never stocked, an order not yet paid).
type Aggregates[A Aggregate[E], E Typed] struct {
	store ports.EventStore
	clock ports.Clock
	codec Codec[A, E]

	// Set by EnableSnapshots; nil folds every stream from its start.
	snapshots ports.SnapshotStore
	every     int64
	logger    *slog.Logger
}

// EnableSnapshots makes Load start from the stream's snapshot and read only
// the events after it, storing a new snapshot whenever the state is every
// or more events past the one it started from. A snapshot of another
// schema, or one that cannot be decoded, is ignored (the stream is folded
// from its start and a fresh snapshot replaces it). A snapshot store that
// fails the read fails the load: inside a unit of work the failed statement
// has aborted the transaction, so the events could not be read instead (and
// a SKU the database refuses, say, must fail as the event read would:
// apperr.Invalid, parked, not retried forever). Failing to write one is
// logged. It panics for a type without Codec.State. Call before use.
func (r *Aggregates[A, E]) EnableSnapshots(store ports.SnapshotStore, every int, logger *slog.Logger) *Aggregates[A, E] {
	if store == nil || every < 1 || r.codec.State == nil {
		panic("repository: snapshots need a store, every >= 1 and a state codec")
	}
	if logger == nil {
		logger = slog.Default()
	}
	r.snapshots, r.every, r.logger = store, int64(every), logger
	return r
}

// NewAggregates panics on nil dependencies.
func NewAggregates[A Aggregate[E], E Typed](store ports.EventStore, clock ports.Clock, codec Codec[A, E]) *Aggregates[A, E] {
	if store == nil || clock == nil || codec.Fold == nil || codec.Encode == nil || codec.Decode == nil || codec.StreamType == "" {
		panic("repository: incomplete aggregate repository")
	}
	return &Aggregates[A, E]{store: store, clock: clock, codec: codec}
}

// Load returns the aggregate's current state (its initial state if its
// stream is empty). With snapshots it reads the snapshot and the events
// after it.
func (r *Aggregates[A, E]) Load(ctx context.Context, id string) (A, error) {
	var zero A
	stream := ports.Stream{Type: r.codec.StreamType, ID: id}
	snap, base, fromSnap, err := r.loadSnapshot(ctx, stream)
	if err != nil {
		return zero, err
	}
	recorded, err := r.store.Load(ctx, stream, base+1)
	if err != nil {
		return zero, apperr.Dependency(err, "cannot load %s", stream)
	}
	events := make([]E, len(recorded))
	for i, re := range recorded {
		if events[i], err = r.codec.Decode(re.Type, re.Data); err != nil {
			return zero, fmt.Errorf("%s version %d: %w", stream, re.Version, err)
		}
	}
	if !fromSnap {
		a := r.codec.Fold(id, events)
		r.maybeSnapshot(ctx, stream, a, 0)
		return a, nil
	}
	a := r.codec.State.Apply(snap, events)
	r.maybeSnapshot(ctx, stream, a, base)
	return a, nil
}

// loadSnapshot returns the stream's usable snapshot and its version, or
// ok false (and version 0) when there is none to use.
func (r *Aggregates[A, E]) loadSnapshot(ctx context.Context, stream ports.Stream) (a A, version int64, ok bool, err error) {
	if r.snapshots == nil {
		return a, 0, false, nil
	}
	snap, err := r.snapshots.LoadSnapshot(ctx, stream)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return a, 0, false, nil
	case err != nil:
		return a, 0, false, apperr.Dependency(err, "cannot read the snapshot of %s", stream)
	case snap.SchemaVersion != r.codec.State.SchemaVersion:
		return a, 0, false, nil
	}
	a, err = r.codec.State.Decode(snap.Data)
	if err != nil || r.codec.State.Version(a) != snap.Version {
		r.logger.WarnContext(ctx, "ignoring an unreadable snapshot", "stream", stream.String(), "error", err)
		var zero A
		return zero, 0, false, nil
	}
	return a, snap.Version, true, nil
}

// maybeSnapshot stores a's state if it is at least every events past the
// snapshot at base. a must have no changes that are not stored.
func (r *Aggregates[A, E]) maybeSnapshot(ctx context.Context, stream ports.Stream, a A, base int64) {
	if r.snapshots == nil {
		return
	}
	version := r.codec.State.Version(a)
	if version-base < r.every {
		return
	}
	storeSnapshot(ctx, r.snapshots, r.logger, ports.Snapshot{Stream: stream, Version: version,
		SchemaVersion: r.codec.State.SchemaVersion, TakenAt: r.clock.Now()},
		func() ([]byte, error) { return r.codec.State.Encode(a) })
}

// Update loads the aggregate, runs fn and appends what fn recorded. A
// concurrent writer's win reloads and re-runs fn, up to conflictRetries
// times, then apperr.Conflict: fn must be an intent that is safe to re-run.
func (r *Aggregates[A, E]) Update(ctx context.Context, id string, fn func(A) error) (A, error) {
	results, err := r.UpdateMany(ctx, []string{id}, func(m map[string]A) error { return fn(m[id]) })
	return results[id], err
}

// UpdateMany loads several aggregates, runs fn on all of them and appends
// every one's changes atomically (EventStore.AppendMany): either all are
// stored or none is. Conflicts re-run fn as Update does.
func (r *Aggregates[A, E]) UpdateMany(ctx context.Context, ids []string, fn func(map[string]A) error) (map[string]A, error) {
	for attempt := 0; ; attempt++ {
		loaded := make(map[string]A, len(ids))
		for _, id := range ids {
			if _, dup := loaded[id]; dup {
				continue
			}
			a, err := r.Load(ctx, id)
			if err != nil {
				return nil, err
			}
			loaded[id] = a
		}
		if err := fn(loaded); err != nil {
			return nil, err
		}
		err := r.save(ctx, loaded)
		if !errors.Is(err, ports.ErrConcurrency) {
			return loaded, err
		}
		if attempt >= conflictRetries {
			return nil, apperr.Wrap(apperr.Conflict, err, "%s is being changed concurrently; try again", r.codec.StreamType)
		}
	}
}

func (r *Aggregates[A, E]) save(ctx context.Context, aggregates map[string]A) error {
	now := r.clock.Now()
	var appends []ports.StreamAppend
	for id, a := range aggregates {
		changes := a.Changes()
		if len(changes) == 0 {
			continue
		}
		events := make([]ports.NewEvent, len(changes))
		for i, c := range changes {
			data, err := r.codec.Encode(c)
			if err != nil {
				return apperr.Wrap(apperr.Internal, err, "cannot encode %s", c.EventType())
			}
			eid, err := uuid.NewV7()
			if err != nil {
				return apperr.Wrap(apperr.Internal, err, "cannot generate event id")
			}
			events[i] = ports.NewEvent{Type: c.EventType(), Data: data, Metadata: ports.EventMetadata{
				EventID: eid.String(), CorrelationID: meta.CorrelationID(ctx),
				CausationID: meta.CausationID(ctx), OccurredAt: now,
			}}
		}
		appends = append(appends, ports.StreamAppend{
			Stream:          ports.Stream{Type: r.codec.StreamType, ID: id},
			ExpectedVersion: a.OriginalVersion(),
			Events:          events,
		})
	}
	if len(appends) == 0 {
		return nil
	}
	err := r.store.AppendMany(ctx, appends)
	switch {
	case errors.Is(err, ports.ErrConcurrency):
		return err
	case err != nil:
		return apperr.Dependency(err, "cannot store %s", r.codec.StreamType)
	}
	return nil
}
