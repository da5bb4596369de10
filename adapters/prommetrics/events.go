package prommetrics

import (
	"context"
	"errors"
	"fmt"

	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
)

var _ ports.EventStore = (*EventStore)(nil)

// EventStore counts the events appended through a ports.EventStore:
// orderflow_events_appended_total{stream_type}. Every appended event gets
// its outbox row in the same transaction, so this is the rate events are
// published (to the outbox); orderflow_outbox_forwarded_messages_total is
// the rate the forwarder hands them to the broker. An append is counted
// when the store accepted it: one inside a unit of work that later rolls
// back (the saga's, on a concurrent change) is counted though it never
// commits.
type EventStore struct {
	ports.EventStore
	appended *prometheus.CounterVec
}

// NewEventStore wraps inner and registers its counter on reg.
func NewEventStore(inner ports.EventStore, reg prometheus.Registerer) (*EventStore, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "orderflow", Name: "events_appended_total",
		Help: "Events appended to the event store (each with its outbox row), by stream type.",
	}, []string{"stream_type"})
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return &EventStore{EventStore: inner, appended: c}, nil
}

// Append implements ports.EventStore.
func (s *EventStore) Append(ctx context.Context, stream ports.Stream, expectedVersion int64, events []ports.NewEvent) (ports.AppendResult, error) {
	res, err := s.EventStore.Append(ctx, stream, expectedVersion, events)
	if err == nil {
		s.appended.WithLabelValues(stream.Type).Add(float64(len(events)))
	}
	return res, err
}

// AppendMany implements ports.EventStore.
func (s *EventStore) AppendMany(ctx context.Context, appends []ports.StreamAppend) error {
	err := s.EventStore.AppendMany(ctx, appends)
	if err == nil {
		for _, a := range appends {
			s.appended.WithLabelValues(a.Stream.Type).Add(float64(len(a.Events)))
		}
	}
	return err
}

// LoadStreams implements ports.StreamsLoader: the wrapped store's, or a
// Load a stream where it has none.
func (s *EventStore) LoadStreams(ctx context.Context, streams []ports.Stream) (map[ports.Stream][]ports.RecordedEvent, error) {
	if l, ok := s.EventStore.(ports.StreamsLoader); ok {
		return l.LoadStreams(ctx, streams)
	}
	return ports.LoadEach(ctx, s.Load, streams)
}

// LoadStates implements ports.StatesLoader: the wrapped store's, or
// errors.ErrUnsupported where it has none.
func (s *EventStore) LoadStates(ctx context.Context, reads []ports.StateRead, lock bool) (map[ports.Stream]ports.StreamState, error) {
	if l, ok := s.EventStore.(ports.StatesLoader); ok {
		return l.LoadStates(ctx, reads, lock)
	}
	return nil, fmt.Errorf("load states: %w", errors.ErrUnsupported)
}

// LockStreams implements ports.StreamLocker where the wrapped store does
// (a no-op where it does not, as outside a unit of work).
func (s *EventStore) LockStreams(ctx context.Context, streams ...ports.Stream) error {
	if l, ok := s.EventStore.(ports.StreamLocker); ok {
		return l.LockStreams(ctx, streams...)
	}
	return nil
}
