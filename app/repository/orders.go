// Package repository loads and saves event-sourced aggregates through the
// EventStore port: an aggregate is its event stream, saved by appending the
// events it recorded with the version it was loaded at as the expectation.
package repository

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/meta"
	"github.com/orderflow/orderflow/app/upcast"
	"github.com/orderflow/orderflow/ports"
)

// conflictRetries bounds how often Update reloads and re-runs a command that
// lost an optimistic-concurrency race.
const conflictRetries = 5

// Orders is the Order repository.
type Orders struct {
	store ports.EventStore
	clock ports.Clock

	// Set by EnableSnapshots; snapshots nil means every load folds the stream.
	snapshots     ports.SnapshotStore
	snapshotEvery int64
	logger        *slog.Logger
	// long are orders whose streams reached snapshotEvery events (at most
	// longStreams of them): their loads start from the snapshot (see load).
	long *Bounded[struct{}]
}

// NewOrders panics on nil dependencies: a repository without a store is a wiring bug.
func NewOrders(store ports.EventStore, clock ports.Clock) *Orders {
	if store == nil || clock == nil {
		panic("repository: nil event store or clock")
	}
	return &Orders{store: store, clock: clock}
}

// Stream returns the event stream of an order.
func Stream(orderID string) ports.Stream {
	return ports.Stream{Type: order.AggregateType, ID: orderID}
}

// Create appends the events of a new order; the stream must not exist.
func (r *Orders) Create(ctx context.Context, o *order.Order) error {
	_, err := r.save(ctx, o)
	return err
}

// Load returns the current state of an order, or an apperr.NotFound error.
// With snapshots enabled it reads the snapshot and the events after it.
func (r *Orders) Load(ctx context.Context, orderID string) (*order.Order, error) {
	o, _, err := r.load(ctx, orderID)
	return o, err
}

// load returns the order and the version of the snapshot it started from
// (0: none).
func (r *Orders) load(ctx context.Context, orderID string) (*order.Order, int64, error) {
	if _, long := r.long.Get(orderID); !long { // r.long is nil without snapshots
		// Without snapshots, and with them for most orders: those never
		// reach snapshotEvery events, and a stream that short has no
		// snapshot this repository would have taken, so its events alone
		// are read, one round trip where the snapshot first would take two.
		// (Folding every event is right whatever snapshot exists.) A stream
		// found long is snapshotted now and remembered.
		events, err := r.History(ctx, orderID)
		if err != nil {
			return nil, 0, err
		}
		o, err := Fold(events, func(ports.RecordedEvent) bool { return true })
		if err != nil || r.snapshots == nil || o.Version() < r.snapshotEvery {
			return o, 0, err
		}
		r.maybeSnapshot(ctx, o, 0) // remembers it as long
		return o, o.Version(), nil
	}
	o, base := r.loadSnapshot(ctx, orderID)
	tail, err := r.store.Load(ctx, Stream(orderID), base+1)
	if err != nil {
		return nil, 0, apperr.Dependency(err, "cannot load order %s", orderID)
	}
	if o == nil {
		if len(tail) == 0 {
			return nil, 0, apperr.New(apperr.NotFound, "order %s not found", orderID)
		}
		if o, err = Fold(tail, func(ports.RecordedEvent) bool { return true }); err != nil {
			return nil, 0, err
		}
	} else {
		for _, re := range tail {
			e, err := Decode(re)
			if err != nil {
				return nil, 0, err
			}
			o.Apply(e)
		}
	}
	r.maybeSnapshot(ctx, o, base)
	if o.Version()-base >= r.snapshotEvery {
		base = o.Version()
	}
	return o, base, nil
}

// History returns every stored event of an order, oldest first, or an
// apperr.NotFound error for an unknown order.
func (r *Orders) History(ctx context.Context, orderID string) ([]ports.RecordedEvent, error) {
	if _, err := uuid.Parse(orderID); err != nil {
		return nil, apperr.New(apperr.NotFound, "order %q not found", orderID)
	}
	events, err := r.store.Load(ctx, Stream(orderID), 1)
	if err != nil {
		return nil, apperr.Dependency(err, "cannot load order %s", orderID)
	}
	if len(events) == 0 {
		return nil, apperr.New(apperr.NotFound, "order %s not found", orderID)
	}
	return events, nil
}

// EventsAfter returns the order's stored events after version after, oldest
// first (none when there are none yet); an apperr.NotFound error for an id
// that is not a UUID.
func (r *Orders) EventsAfter(ctx context.Context, orderID string, after int64) ([]ports.RecordedEvent, error) {
	if _, err := uuid.Parse(orderID); err != nil {
		return nil, apperr.New(apperr.NotFound, "order %q not found", orderID)
	}
	events, err := r.store.Load(ctx, Stream(orderID), after+1)
	if err != nil {
		return nil, apperr.Dependency(err, "cannot load order %s", orderID)
	}
	return events, nil
}

// Fold rebuilds an order from the prefix of stored events for which keep is
// true, upcasting each to its newest version first. It returns
// apperr.NotFound if no event is kept, and apperr.Invalid for an event this
// release cannot read (a future version).
func Fold(events []ports.RecordedEvent, keep func(ports.RecordedEvent) bool) (*order.Order, error) {
	var domainEvents []order.Event
	for _, re := range events {
		if !keep(re) {
			break
		}
		e, err := Decode(re)
		if err != nil {
			return nil, err
		}
		domainEvents = append(domainEvents, e)
	}
	if len(domainEvents) == 0 {
		return nil, apperr.New(apperr.NotFound, "order not found at that point")
	}
	return order.FromHistory(domainEvents), nil
}

// Decode upcasts a stored order event to its newest version and decodes it.
// Errors are apperr.Invalid.
func Decode(re ports.RecordedEvent) (order.Event, error) {
	re, err := upcast.Default().Event(re)
	if err != nil {
		return nil, err
	}
	e, err := order.DecodeEvent(re.Type, re.Data)
	if err != nil {
		return nil, fmt.Errorf("order %s version %d: %w", re.Stream.ID, re.Version, err)
	}
	return e, nil
}

// Update loads the order, runs fn on it and appends the events fn recorded,
// in one transaction together with their outbox messages.
//
// ifMatch > 0 is the version the caller last saw: if the order moved on, the
// result is apperr.PreconditionFailed and nothing is written. With ifMatch 0
// a concurrent writer's win is absorbed by reloading and re-running fn (the
// commands are intents, checked again against the newer state), up to
// conflictRetries times, then apperr.Conflict.
func (r *Orders) Update(ctx context.Context, orderID string, ifMatch int64, fn func(*order.Order) error) (*order.Order, error) {
	for attempt := 0; ; attempt++ {
		o, base, err := r.load(ctx, orderID)
		if err != nil {
			return nil, err
		}
		if ifMatch > 0 && o.Version() != ifMatch {
			return nil, apperr.New(apperr.PreconditionFailed,
				"order %s is at version %d, not the expected %d", orderID, o.Version(), ifMatch)
		}
		if err := fn(o); err != nil {
			return nil, err
		}
		_, err = r.save(ctx, o)
		if err == nil {
			r.maybeSnapshot(ctx, o, base)
		}
		if !errors.Is(err, ports.ErrConcurrency) {
			return o, err
		}
		if ifMatch > 0 {
			return nil, apperr.Wrap(apperr.PreconditionFailed, err,
				"order %s changed after version %d", orderID, ifMatch)
		}
		if attempt >= conflictRetries {
			return nil, apperr.Wrap(apperr.Conflict, err,
				"order %s is being changed concurrently; try again", orderID)
		}
	}
}

// UpdateFrom is Update (ifMatch 0) starting from o, an order the caller
// loaded in the same unit of work and has not changed since: its first
// attempt reads nothing, where Update would load the stream again. fn
// changes o itself, so the caller must use the returned order, not o. If a
// concurrent writer won, it reloads and re-runs fn as Update does; an o that
// already carries changes is not used (Update from the stream).
func (r *Orders) UpdateFrom(ctx context.Context, o *order.Order, fn func(*order.Order) error) (*order.Order, error) {
	if len(o.Changes()) > 0 {
		return r.Update(ctx, o.ID(), 0, fn)
	}
	if err := fn(o); err != nil {
		return nil, err
	}
	_, err := r.save(ctx, o)
	if errors.Is(err, ports.ErrConcurrency) {
		return r.Update(ctx, o.ID(), 0, fn)
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

func (r *Orders) save(ctx context.Context, o *order.Order) (ports.AppendResult, error) {
	changes := o.Changes()
	if len(changes) == 0 {
		return ports.AppendResult{NextExpectedVersion: o.Version()}, nil
	}
	now := r.clock.Now()
	events := make([]ports.NewEvent, len(changes))
	for i, c := range changes {
		data, err := order.EncodeEvent(c)
		if err != nil {
			return ports.AppendResult{}, apperr.Wrap(apperr.Internal, err, "cannot encode %s", c.EventType())
		}
		id, err := uuid.NewV7()
		if err != nil {
			return ports.AppendResult{}, apperr.Wrap(apperr.Internal, err, "cannot generate event id")
		}
		events[i] = ports.NewEvent{Type: c.EventType(), Data: data, Metadata: ports.EventMetadata{
			EventID:       id.String(),
			CorrelationID: meta.CorrelationID(ctx),
			CausationID:   meta.CausationID(ctx),
			OccurredAt:    now,
		}}
	}
	res, err := r.store.Append(ctx, Stream(o.ID()), o.OriginalVersion(), events)
	switch {
	case errors.Is(err, ports.ErrConcurrency):
		return res, err
	case err != nil:
		return res, apperr.Dependency(err, "cannot store order %s", o.ID())
	}
	return res, nil
}

// AtTime returns a Fold filter keeping the events that occurred at or before t.
func AtTime(t time.Time) func(ports.RecordedEvent) bool {
	return func(e ports.RecordedEvent) bool { return !e.Metadata.OccurredAt.After(t) }
}

// AtVersion returns a Fold filter keeping events up to version v.
func AtVersion(v int64) func(ports.RecordedEvent) bool {
	return func(e ports.RecordedEvent) bool { return e.Version <= v }
}

// longStreams bounds Orders.long: past it an arbitrary entry is forgotten,
// and that order's next load reads its whole stream once more.
const longStreams = 4096
