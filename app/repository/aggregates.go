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
	// LockBeforeLoad: UpdateMany inside a unit of work locks its streams
	// (ports.StreamLocker) before it loads them, for a contended type (a
	// hot SKU's stock): concurrent writers then queue on the lock instead
	// of each loading, losing the version check at append and reloading.
	LockBeforeLoad bool
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
	// Clone, when set, copies a state (with no changes) so that the copy
	// shares nothing with it: EnableCache needs it.
	Clone func(A) A
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

	// Set by EnableCache; nil reads every load from the store.
	cache *stateCache[A]
}

// EnableCache keeps the state of up to entries streams in memory, so that
// loading one of them again reads only the events after it (see
// stateCache): for a type whose few streams take most writes (stock). It
// panics for a type without Codec.State.Clone. Call before use.
func (r *Aggregates[A, E]) EnableCache(entries int) *Aggregates[A, E] {
	if entries < 1 || r.codec.State == nil || r.codec.State.Clone == nil {
		panic("repository: a state cache needs entries >= 1 and a state codec with Clone")
	}
	r.cache = newStateCache(r.codec.State.Clone, entries)
	return r
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
// after it; with a state cache (EnableCache) a stream it loaded before
// costs neither the snapshot read nor its decoding, only the events after
// the cached state.
func (r *Aggregates[A, E]) Load(ctx context.Context, id string) (A, error) {
	var zero A
	stream := ports.Stream{Type: r.codec.StreamType, ID: id}
	if a, ok, err := r.loadCached(ctx, stream); err != nil || ok {
		return a, err
	}
	snap, err := r.readSnapshot(ctx, stream)
	if err != nil {
		return zero, err
	}
	start, base, fromSnap := r.usableSnapshot(ctx, snap)
	recorded, events, err := r.loadEvents(ctx, stream, base+1)
	if err != nil {
		return zero, err
	}
	return r.built(ctx, id, start, fromSnap, base, recorded, events), nil
}

// built is the aggregate id from its snapshot's state start at version
// base (fromSnap) or from nothing, and the events after it; it stores a
// new snapshot if one is due and keeps the state in the cache.
func (r *Aggregates[A, E]) built(ctx context.Context, id string, start A, fromSnap bool, base int64,
	recorded []ports.RecordedEvent, events []E) A {
	var a A
	if fromSnap {
		a = r.codec.State.Apply(start, events)
	} else {
		a = r.codec.Fold(id, events)
	}
	base = r.maybeSnapshot(ctx, ports.Stream{Type: r.codec.StreamType, ID: id}, a, base)
	if r.cache != nil && len(recorded) > 0 {
		r.cache.put(id, a, recorded[len(recorded)-1], base)
	}
	return a
}

// loadEvents reads and decodes the stream's events from version from on.
func (r *Aggregates[A, E]) loadEvents(ctx context.Context, stream ports.Stream, from int64) ([]ports.RecordedEvent, []E, error) {
	recorded, err := r.store.Load(ctx, stream, from)
	if err != nil {
		return nil, nil, apperr.Dependency(err, "cannot load %s", stream)
	}
	events, err := r.decode(recorded)
	return recorded, events, err
}

// decode decodes recorded events.
func (r *Aggregates[A, E]) decode(recorded []ports.RecordedEvent) ([]E, error) {
	events := make([]E, len(recorded))
	for i, re := range recorded {
		var err error
		if events[i], err = r.codec.Decode(re.Type, re.Data); err != nil {
			return nil, fmt.Errorf("%s version %d: %w", re.Stream, re.Version, err)
		}
	}
	return events, nil
}

// loadCached builds the aggregate from its cached state and the events
// after it, when the stream still holds the event the state was built from
// (ok false otherwise: the caller loads as without a cache).
func (r *Aggregates[A, E]) loadCached(ctx context.Context, stream ports.Stream) (a A, ok bool, err error) {
	if r.cache == nil {
		return a, false, nil
	}
	e, ok := r.cache.get(stream.ID)
	if !ok {
		return a, false, nil
	}
	recorded, events, err := r.loadEvents(ctx, stream, e.version)
	if err != nil {
		return a, false, err
	}
	a, ok = r.fromCached(ctx, stream.ID, e, recorded, events)
	return a, ok, nil
}

// fromCached is the aggregate from its cache entry e and the stream's
// events from e's version on, or ok false (and the entry dropped) when the
// stream does not hold the event e was built from.
func (r *Aggregates[A, E]) fromCached(ctx context.Context, id string, e cachedState[A], recorded []ports.RecordedEvent, events []E) (a A, ok bool) {
	if len(recorded) == 0 || recorded[0].Version != e.version || recorded[0].Metadata.EventID != e.eventID {
		r.cache.drop(id) // built from an event that never committed
		return a, false
	}
	a = r.codec.State.Apply(r.cache.clone(e.state), events[1:])
	base := r.maybeSnapshot(ctx, ports.Stream{Type: r.codec.StreamType, ID: id}, a, e.snapshot)
	if len(recorded) > 1 || base != e.snapshot {
		r.cache.put(id, a, recorded[len(recorded)-1], base)
	}
	return a, true
}

// readSnapshot reads the stream's snapshot: nil when it has none or
// snapshots are off.
func (r *Aggregates[A, E]) readSnapshot(ctx context.Context, stream ports.Stream) (*ports.Snapshot, error) {
	if r.snapshots == nil {
		return nil, nil
	}
	snap, err := r.snapshots.LoadSnapshot(ctx, stream)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, apperr.Dependency(err, "cannot read the snapshot of %s", stream)
	}
	return &snap, nil
}

// usableSnapshot decodes snap: ok false (and version 0) when there is
// none, or it is of another schema or cannot be decoded.
func (r *Aggregates[A, E]) usableSnapshot(ctx context.Context, snap *ports.Snapshot) (a A, version int64, ok bool) {
	if snap == nil || r.codec.State == nil || snap.SchemaVersion != r.codec.State.SchemaVersion {
		return a, 0, false
	}
	a, err := r.codec.State.Decode(snap.Data)
	if err != nil || r.codec.State.Version(a) != snap.Version {
		r.logger.WarnContext(ctx, "ignoring an unreadable snapshot", "stream", snap.Stream.String(), "error", err)
		var zero A
		return zero, 0, false
	}
	return a, snap.Version, true
}

// maybeSnapshot stores a's state if it is at least every events past the
// snapshot at base, and returns the version of the latest snapshot (a's, if
// it stored one). a must have no changes that are not stored.
func (r *Aggregates[A, E]) maybeSnapshot(ctx context.Context, stream ports.Stream, a A, base int64) int64 {
	if r.snapshots == nil {
		return base
	}
	version := r.codec.State.Version(a)
	if version-base < r.every {
		return base
	}
	storeSnapshot(ctx, r.snapshots, r.logger, ports.Snapshot{Stream: stream, Version: version,
		SchemaVersion: r.codec.State.SchemaVersion, TakenAt: r.clock.Now()},
		func() ([]byte, error) { return r.codec.State.Encode(a) })
	return version
}

// Update loads the aggregate, runs fn and appends what fn recorded. A
// concurrent writer's win reloads and re-runs fn, up to conflictRetries
// times, then apperr.Conflict: fn must be an intent that is safe to re-run.
func (r *Aggregates[A, E]) Update(ctx context.Context, id string, fn func(A) error) (A, error) {
	results, err := r.UpdateMany(ctx, []string{id}, func(m map[string]A) error { return fn(m[id]) })
	return results[id], err
}

// UpdateNew is Update for a stream that is empty but for rare cases (an
// order's payment, recorded once its provider answered): it runs fn on the
// initial state and appends with expected version 0, without reading the
// stream. Where the stream has events after all, the append's version check
// fails, or fn refuses the initial state, and it is Update. It takes no
// lock (Codec.LockBeforeLoad is for contended streams, which are not empty).
func (r *Aggregates[A, E]) UpdateNew(ctx context.Context, id string, fn func(A) error) (A, error) {
	a := r.codec.Fold(id, nil)
	if err := fn(a); err != nil {
		return r.Update(ctx, id, fn)
	}
	err := r.save(ctx, map[string]A{id: a})
	if errors.Is(err, ports.ErrConcurrency) {
		return r.Update(ctx, id, fn)
	}
	return a, err
}

// UpdateMany loads several aggregates, runs fn on all of them and appends
// every one's changes atomically (EventStore.AppendMany): either all are
// stored or none is. Conflicts re-run fn as Update does.
func (r *Aggregates[A, E]) UpdateMany(ctx context.Context, ids []string, fn func(map[string]A) error) (map[string]A, error) {
	loader, together := r.store.(ports.StatesLoader)
	lock := r.codec.LockBeforeLoad // taken by the first load, and held
	for attempt := 0; ; attempt++ {
		var loaded map[string]A
		var err error
		if together {
			loaded, err = r.loadMany(ctx, loader, ids, lock)
			if errors.Is(err, errors.ErrUnsupported) {
				together = false
			} else if err != nil {
				return nil, err
			}
		}
		if !together {
			if lock {
				if err := r.lock(ctx, ids); err != nil {
					return nil, err
				}
			}
			if loaded, err = r.loadEach(ctx, ids); err != nil {
				return nil, err
			}
		}
		lock = false
		if err := fn(loaded); err != nil {
			return nil, err
		}
		err = r.save(ctx, loaded)
		if !errors.Is(err, ports.ErrConcurrency) {
			return loaded, err
		}
		if attempt >= conflictRetries {
			return nil, apperr.Wrap(apperr.Conflict, err, "%s is being changed concurrently; try again", r.codec.StreamType)
		}
	}
}

// loadEach loads the aggregates one Load each.
func (r *Aggregates[A, E]) loadEach(ctx context.Context, ids []string) (map[string]A, error) {
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
	return loaded, nil
}

// loadMany is loadEach in one read of the store (ports.StatesLoader), after
// taking the streams' locks if lock: for each aggregate, the events after
// its cached state, or its snapshot and the events after it. An aggregate
// that read does not build (a cached state whose event is gone, a
// snapshot of another schema) is loaded again on its own. It returns the
// loader's errors.ErrUnsupported as it is.
func (r *Aggregates[A, E]) loadMany(ctx context.Context, loader ports.StatesLoader, ids []string, lock bool) (map[string]A, error) {
	reads := make([]ports.StateRead, 0, len(ids))
	entries := map[string]cachedState[A]{}
	for _, id := range ids {
		read := ports.StateRead{Stream: ports.Stream{Type: r.codec.StreamType, ID: id}, From: 1}
		if r.snapshots != nil {
			read.From = 0 // the snapshot and what follows it
		}
		if r.cache != nil {
			if e, ok := r.cache.get(id); ok {
				entries[id], read.From = e, e.version
			}
		}
		reads = append(reads, read)
	}
	states, err := loader.LoadStates(ctx, reads, lock)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, err
	}
	if err != nil {
		return nil, apperr.Dependency(err, "cannot load %s", r.codec.StreamType)
	}
	loaded := make(map[string]A, len(ids))
	for _, read := range reads {
		id := read.Stream.ID
		if _, dup := loaded[id]; dup {
			continue
		}
		st := states[read.Stream]
		events, err := r.decode(st.Events)
		if err != nil {
			return nil, err
		}
		var a A
		ok := true
		if e, cached := entries[id]; cached {
			a, ok = r.fromCached(ctx, id, e, st.Events, events)
		} else {
			start, base, fromSnap := r.usableSnapshot(ctx, st.Snapshot)
			if st.Snapshot != nil && !fromSnap {
				ok = false // its events start after a snapshot it cannot use
			} else {
				a = r.built(ctx, id, start, fromSnap, base, st.Events, events)
			}
		}
		if !ok {
			if a, err = r.Load(ctx, id); err != nil {
				return nil, err
			}
		}
		loaded[id] = a
	}
	return loaded, nil
}

// lock takes the streams' locks where the codec asks for it
// (Codec.LockBeforeLoad) and the store has them; outside a unit of work the
// store does nothing.
func (r *Aggregates[A, E]) lock(ctx context.Context, ids []string) error {
	locker, ok := r.store.(ports.StreamLocker)
	if !r.codec.LockBeforeLoad || !ok {
		return nil
	}
	streams := make([]ports.Stream, len(ids))
	for i, id := range ids {
		streams[i] = ports.Stream{Type: r.codec.StreamType, ID: id}
	}
	return locker.LockStreams(ctx, streams...)
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
