package saga

// The saga's stores in a batch: its event store (Batches.Events) and its
// checkout store, which keep a batch's writes for its one commit and let
// its units read them.

import (
	"context"
	"errors"
	"fmt"

	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// batchEvents is Batches.Events.
type batchEvents struct{ base ports.EventStore }

var (
	_ ports.EventStore   = (*batchEvents)(nil)
	_ ports.StreamLocker = (*batchEvents)(nil)
	_ ports.StatesLoader = (*batchEvents)(nil)
)

func (s *batchEvents) Append(ctx context.Context, stream ports.Stream, expected int64, events []ports.NewEvent) (ports.AppendResult, error) {
	w := writesOf(ctx)
	if w == nil {
		return s.base.Append(ctx, stream, expected, events)
	}
	next, err := w.add(stream, expected, events)
	return ports.AppendResult{NextExpectedVersion: next}, err
}

// AppendMany in a batch checks every part before it keeps any: all or
// nothing, as the store's.
func (s *batchEvents) AppendMany(ctx context.Context, appends []ports.StreamAppend) error {
	w := writesOf(ctx)
	if w == nil {
		return s.base.AppendMany(ctx, appends)
	}
	for _, a := range appends {
		p, ok := w.appends[a.Stream]
		if ok && a.ExpectedVersion != ports.AnyVersion && a.ExpectedVersion != p.version() {
			return &ports.ConcurrencyError{Stream: a.Stream, Expected: a.ExpectedVersion, Actual: p.version()}
		}
	}
	for _, a := range appends {
		if _, err := w.add(a.Stream, a.ExpectedVersion, a.Events); err != nil {
			return err
		}
	}
	return nil
}

// prefetch reads the order stream of every unit of the batch at once
// (ports.StreamsLoader, one round trip on Postgres), in the batch's
// transaction, before the units run: each unit loads its order, and the
// units of a checkout's second half load it again. Load then serves them
// from it. What was read is as good as a Load of the unit's own: neither
// holds the order's lock, and a batch that appends to an order moved since
// fails AppendMany's version check, as one that loaded it later would.
func (s *batchEvents) prefetch(ctx context.Context, w *writes, batch []*unitRequest) error {
	l, ok := s.base.(ports.StreamsLoader)
	if !ok || len(batch) < 2 {
		return nil
	}
	streams := make([]ports.Stream, len(batch))
	for i, r := range batch {
		streams[i] = repository.Stream(r.orderID)
	}
	read, err := l.LoadStreams(ctx, streams)
	if err != nil {
		return err
	}
	w.read = make(map[ports.Stream][]ports.RecordedEvent, len(streams))
	for _, st := range streams {
		w.read[st] = read[st]
	}
	return nil
}

// Load in a batch is the stored events (as prefetch read them, if it
// did) followed by the batch's appends to the stream. Stored events past
// the version the batch appends after (a writer outside the batch got
// there first) are a conflict: the batch cannot commit.
func (s *batchEvents) Load(ctx context.Context, stream ports.Stream, from int64) ([]ports.RecordedEvent, error) {
	w := writesOf(ctx)
	var stored []ports.RecordedEvent
	var err error
	if read, ok := w.prefetched(stream); ok {
		for _, e := range read {
			if e.Version >= from {
				stored = append(stored, e)
			}
		}
	} else {
		stored, err = s.base.Load(ctx, stream, from)
	}
	if err != nil || w == nil {
		return stored, err
	}
	return w.withAppends(stream, stored, from)
}

// withAppends is stored, the stream's events from version from on as the
// store has them, followed by the batch's appends to it. Stored events past
// the version the batch appends after (a writer outside the batch got
// there first) are a conflict: the batch cannot commit.
func (w *writes) withAppends(stream ports.Stream, stored []ports.RecordedEvent, from int64) ([]ports.RecordedEvent, error) {
	p, ok := w.appends[stream]
	if !ok {
		return stored, nil
	}
	// The stored events must end where the batch's begin: at the version
	// its first append expected, or before from.
	switch {
	case len(stored) > 0 && stored[len(stored)-1].Version != p.expected:
		return nil, &ports.ConcurrencyError{Stream: stream, Expected: p.expected, Actual: stored[len(stored)-1].Version}
	case len(stored) == 0 && from <= p.expected:
		return nil, &ports.ConcurrencyError{Stream: stream, Expected: p.expected, Actual: from - 1}
	}
	for _, e := range p.recorded {
		if e.Version >= from {
			stored = append(stored, e)
		}
	}
	return stored, nil
}

// LoadStates in a batch is the store's (ports.StatesLoader), each stream's
// events followed by the batch's appends to it as Load has them. Without
// lock, a stream prefetch read is served from what it read, without a
// snapshot; what is locked is read after the lock.
func (s *batchEvents) LoadStates(ctx context.Context, reads []ports.StateRead, lock bool) (map[ports.Stream]ports.StreamState, error) {
	l, ok := s.base.(ports.StatesLoader)
	if !ok {
		return nil, fmt.Errorf("load states: %w", errors.ErrUnsupported)
	}
	w := writesOf(ctx)
	if w == nil {
		return l.LoadStates(ctx, reads, lock)
	}
	var fromStore []ports.StateRead
	out := make(map[ports.Stream]ports.StreamState, len(reads))
	prefetched := func(r ports.StateRead) bool {
		_, ok := w.prefetched(r.Stream)
		return ok && !lock
	}
	for _, r := range reads {
		if !prefetched(r) {
			fromStore = append(fromStore, r)
		}
	}
	states, err := l.LoadStates(ctx, fromStore, lock)
	if err != nil {
		return nil, err
	}
	for _, r := range reads {
		if prefetched(r) {
			events, err := s.Load(ctx, r.Stream, max(r.From, 1))
			if err != nil {
				return nil, err
			}
			out[r.Stream] = ports.StreamState{Events: events}
			continue
		}
		st := states[r.Stream]
		from := r.From
		if from < 1 {
			from = 1
			if st.Snapshot != nil {
				from = st.Snapshot.Version + 1
			}
		}
		if st.Events, err = w.withAppends(r.Stream, st.Events, from); err != nil {
			return nil, err
		}
		out[r.Stream] = st
	}
	return out, nil
}

func (s *batchEvents) ReadAll(ctx context.Context, after ports.Position, limit int) ([]ports.RecordedEvent, error) {
	return s.base.ReadAll(ctx, after, limit)
}

// LockStreams takes the locks at once, in a batch too: a unit that locks
// before it loads (a contended stock) reads what no other transaction can
// change before the batch commits.
func (s *batchEvents) LockStreams(ctx context.Context, streams ...ports.Stream) error {
	if l, ok := s.base.(ports.StreamLocker); ok {
		return l.LockStreams(ctx, streams...)
	}
	return nil
}

// batchCheckouts is the saga's checkout store: in a batch, a save waits for
// the batch's commit, and a read sees it.
type batchCheckouts struct{ ports.CheckoutStore }

func (s batchCheckouts) Get(ctx context.Context, orderID string) (ports.Checkout, error) {
	if w := writesOf(ctx); w != nil {
		if c, ok := w.checkouts[orderID]; ok {
			return c, nil
		}
	}
	return s.CheckoutStore.Get(ctx, orderID)
}

// Save in a batch keeps c for the commit. A batch holds one unit per
// order, which saves once: a second save is a unit this code does not
// know, and runs alone.
func (s batchCheckouts) Save(ctx context.Context, c ports.Checkout) error {
	w := writesOf(ctx)
	if w == nil {
		return s.CheckoutStore.Save(ctx, c)
	}
	if _, ok := w.checkouts[c.OrderID]; ok {
		return errUnbatchable
	}
	w.checkouts[c.OrderID] = c
	w.orders = append(w.orders, c.OrderID)
	return nil
}
