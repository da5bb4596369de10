package sqlite

import (
	"context"

	"github.com/orderflow/orderflow/internal/tracing"
	"github.com/orderflow/orderflow/ports"
)

// traced is the store's methods in their spans (tracing.EventStore).
func (s *EventStore) traced() tracing.EventStore {
	return tracing.EventStore{System: tracing.DBSystem.String("sqlite"), AppendFn: s.appendEvents,
		AppendMany: s.appendMany, LoadFn: s.load, ReadAllFn: s.readAll, LoadStreamsFn: s.loadStreams, LoadStatesFn: s.loadStates}
}

// Append implements ports.EventStore: appendEvents in its span.
func (s *EventStore) Append(ctx context.Context, stream ports.Stream, expectedVersion int64, events []ports.NewEvent) (ports.AppendResult, error) {
	return s.traced().Append(ctx, stream, expectedVersion, events)
}

// AppendMany implements ports.EventStore: appendMany in its span.
func (s *EventStore) AppendMany(ctx context.Context, appends []ports.StreamAppend) error {
	return s.traced().AppendAll(ctx, appends)
}

// LoadStreams implements ports.StreamsLoader: loadStreams in its span.
func (s *EventStore) LoadStreams(ctx context.Context, streams []ports.Stream) (map[ports.Stream][]ports.RecordedEvent, error) {
	return s.traced().LoadStreams(ctx, streams)
}

// Load implements ports.EventStore: load in its span.
func (s *EventStore) Load(ctx context.Context, stream ports.Stream, fromVersion int64) ([]ports.RecordedEvent, error) {
	return s.traced().Load(ctx, stream, fromVersion)
}

// ReadAll implements ports.EventStore: readAll in its span.
func (s *EventStore) ReadAll(ctx context.Context, after ports.Position, limit int) ([]ports.RecordedEvent, error) {
	return s.traced().ReadAll(ctx, after, limit)
}

// LockStreams implements ports.StreamLocker. A unit of work on SQLite holds
// the database's write lock from its BEGIN (IMMEDIATE, see Open), which
// already keeps every other writer out of every stream until it ends: there
// is nothing more to take, and no span for a wait that cannot happen here.
func (s *EventStore) LockStreams(context.Context, ...ports.Stream) error { return nil }

// LoadStates implements ports.StatesLoader: loadStates in its span.
func (s *EventStore) LoadStates(ctx context.Context, reads []ports.StateRead, lock bool) (map[ports.Stream]ports.StreamState, error) {
	return s.traced().LoadStates(ctx, reads, lock)
}
