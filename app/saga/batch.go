package saga

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Batches: the units of concurrent Advances (of different orders) commit
// together, in one transaction, with their writes merged: every event
// appended by the batch's units goes to the store in one AppendMany at the
// end, and their checkouts are saved after it. Under load this turns the
// units' dozen statements and commit each into a few statements per batch
// (and, for a hot SKU, one lock hold for many reservations).
//
// A batch is all or nothing. Were any unit to fail in it (a conflict, a
// store error), or its merged writes to fail, nothing of it commits, and
// each unit runs again alone, in a transaction of its own, as without
// batches: what a unit does, and what a failure means, is the same either
// way. Each unit still sees the writes of the units before it in the batch
// (a SKU reserved by one order, then by the next).
//
// While a batch runs, no unit writes to the database: the batch's first
// write is its AppendMany, which locks every stream it appends to and checks
// their versions before it writes, as a unit alone does. So a batch never
// appends a stream behind an event of a younger transaction (ReadAll's
// order), and a stream moved since a unit read it fails the batch.

// Batches lets Advance batch its units. Build the saga's repositories on
// Events, and give it to Deps.Batches.
type Batches struct {
	events    *batchEvents
	checkouts ports.CheckoutStore // the saga's, set by New

	mu      sync.Mutex
	queue   []*unitRequest
	workers int
	// reading is held by the batch whose units run (see loop).
	reading sync.Mutex
}

// NewBatches returns the batches of a saga whose events are in events.
func NewBatches(events ports.EventStore) *Batches {
	return &Batches{events: &batchEvents{base: events}}
}

// Events is the event store to build the saga's repositories on: events
// itself outside a batch; inside one, it keeps appends for the batch's
// commit and shows them to the batch's later reads.
func (b *Batches) Events() ports.EventStore { return b.events }

// DefaultBatchSize is the most units one batch commits (Config.BatchSize).
const DefaultBatchSize = 64

// unitRequest is one unit waiting for a batch.
type unitRequest struct {
	ctx     context.Context
	a       *advance
	orderID string
	done    chan unitResult
}

// unitResult is a unit's outcome in a batch; alone: the batch did not
// commit it, and the unit must run on its own.
type unitResult struct {
	alone bool
	done  []*transition
	need  *needCall
	last  *ports.Checkout
}

// run commits orderID's next unit in a batch with the units of other
// Advances waiting meanwhile; ok false: the unit did not commit (it was
// alone, or its batch failed) and must run on its own.
func (b *Batches) run(ctx context.Context, a *advance, orderID string) (unitResult, bool) {
	r := &unitRequest{ctx: ctx, a: a, orderID: orderID, done: make(chan unitResult, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, r)
	if b.workers < workers {
		b.workers++
		go b.loop(a.cfg.BatchSize, a.d.Tx)
	}
	b.mu.Unlock()
	res := <-r.done
	return res, !res.alone
}

// workers is how many batches are in flight at most: one runs its units
// while the one before it writes and commits.
const workers = 2

// loop runs batches while units wait. A batch takes every unit queued when
// it starts (one unit per order, up to size), and starts only when the
// batch before it has run its units (reading): one batch at a time reads
// and takes locks, while the one before it writes and commits. That
// overlaps one batch's commit with the next one's reads, and cannot
// deadlock: a committing batch only takes locks of its own orders'
// streams (its SKUs it locked while it read), so it never waits for the
// batch after it, which may wait for it (a SKU both reserve).
func (b *Batches) loop(size int, tx ports.Transactor) {
	for {
		b.reading.Lock()
		b.mu.Lock()
		batch := b.take(size)
		if len(batch) == 0 {
			b.workers--
			b.mu.Unlock()
			b.reading.Unlock()
			return
		}
		b.mu.Unlock()
		b.commit(tx, batch, sync.OnceFunc(b.reading.Unlock))
	}
}

// take removes from the queue up to size units of different orders, the
// oldest first; a second unit of an order waits for the next batch.
func (b *Batches) take(size int) []*unitRequest {
	var batch, rest []*unitRequest
	orders := map[string]bool{}
	for _, r := range b.queue {
		if len(batch) == size || orders[r.orderID] {
			rest = append(rest, r)
			continue
		}
		orders[r.orderID] = true
		batch = append(batch, r)
	}
	b.queue = rest
	return batch
}

// commit runs batch's units in one transaction and answers each. A batch
// of one unit runs here too: while it runs, the units that arrive queue
// for the next batch (as in a database's group commit).
//
// read is called once the units have run (or failed): the next batch may
// start reading.
func (b *Batches) commit(tx ports.Transactor, batch []*unitRequest, read func()) {
	defer read()
	links := make([]trace.Link, len(batch))
	for i, r := range batch {
		links[i] = trace.LinkFromContext(r.ctx)
	}
	// The batch's span is not in the units' context: each unit's spans
	// belong to its own Advance's trace (joined takes the batch's values
	// first). The batch's own writes are its children.
	_, span := tracer().Start(context.Background(), "checkout.batch", trace.WithLinks(links...),
		trace.WithAttributes(attribute.Int("orderflow.checkout.batch_size", len(batch))))
	// Bounded: a unit waits for its batch, and a batch stuck on a lock
	// should fail (its units then run alone) rather than hold them all.
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	results := make([]unitResult, len(batch))
	err := tx.InTx(ctx, func(ctx context.Context) (err error) {
		// A unit that panics fails the batch instead of the process: it
		// panics again alone, in its Advance's goroutine, where the
		// router's recoverer turns it into the message's failure.
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("saga: a unit panicked in a batch: %v", p)
			}
		}()
		w := &writes{appends: map[ports.Stream]*pendingAppend{}, checkouts: map[string]ports.Checkout{}}
		ctx = context.WithValue(ctx, writesKey{}, w)
		if err := b.events.prefetch(ctx, w, batch); err != nil {
			return err
		}
		for i, r := range batch {
			done, need, last, err := r.a.unit(joined{Context: ctx, values: r.ctx}, r.orderID)
			if err != nil {
				return err
			}
			results[i] = unitResult{done: done, need: need, last: last}
		}
		read()
		return w.flush(trace.ContextWithSpan(ctx, span), b.events.base, b.checkouts)
	})
	endSpan(span, err)
	batch[0].a.d.Metrics.Batched(len(batch), err == nil)
	for i, r := range batch {
		if err != nil {
			results[i] = unitResult{alone: true}
		}
		r.done <- results[i]
	}
}

// batchTimeout bounds one batch.
const batchTimeout = 10 * time.Second

// joined is the context of one unit in a batch: the batch's (its
// transaction, its pending writes, its deadline), with the values of the
// unit's Advance (correlation, trace) where the batch has none.
type joined struct {
	context.Context
	values context.Context
}

func (j joined) Value(key any) any {
	if v := j.Context.Value(key); v != nil {
		return v
	}
	return j.values.Value(key)
}

// writes are a batch's pending writes, and the streams it read ahead.
type writes struct {
	appends   map[ports.Stream]*pendingAppend
	streams   []ports.Stream // in the order of their first append
	checkouts map[string]ports.Checkout
	orders    []string // in the order of their save
	// read are the streams prefetch read, whole (a stream without
	// events: an entry without any).
	read map[ports.Stream][]ports.RecordedEvent
}

type writesKey struct{}

func writesOf(ctx context.Context) *writes {
	w, _ := ctx.Value(writesKey{}).(*writes)
	return w
}

// prefetched is what prefetch read of stream; ok false: it did not read it
// (w may be nil: outside a batch).
func (w *writes) prefetched(stream ports.Stream) (events []ports.RecordedEvent, ok bool) {
	if w == nil {
		return nil, false
	}
	events, ok = w.read[stream]
	return events, ok
}

// pendingAppend is what a batch appends to one stream: events after
// version expected.
type pendingAppend struct {
	expected int64
	events   []ports.NewEvent
	recorded []ports.RecordedEvent
}

func (p *pendingAppend) version() int64 { return p.expected + int64(len(p.events)) }

// errUnbatchable fails a batch whose units do what a batch cannot merge;
// they then run alone.
var errUnbatchable = errors.New("saga: a unit's writes cannot join a batch")

// add keeps one append for the batch, with the version check the store
// would make: against the batch's own appends to the stream, if any (the
// store checks the first at the commit).
func (w *writes) add(stream ports.Stream, expected int64, events []ports.NewEvent) (int64, error) {
	p, ok := w.appends[stream]
	switch {
	case !ok && expected == ports.AnyVersion:
		return 0, errUnbatchable // its version is known only at the commit
	case !ok:
		p = &pendingAppend{expected: expected}
		w.appends[stream] = p
		w.streams = append(w.streams, stream)
	case expected != ports.AnyVersion && expected != p.version():
		return 0, &ports.ConcurrencyError{Stream: stream, Expected: expected, Actual: p.version()}
	}
	for _, e := range events {
		p.events = append(p.events, e)
		p.recorded = append(p.recorded, ports.RecordedEvent{Stream: stream, Version: p.version(),
			Type: e.Type, Data: e.Data, Metadata: e.Metadata, RecordedAt: e.Metadata.OccurredAt})
	}
	return p.version(), nil
}

// flush writes the batch: every append in one AppendMany, which locks the
// streams and checks the versions the batch appended after, then the
// checkouts in one SaveMany, each with its version check.
func (w *writes) flush(ctx context.Context, events ports.EventStore, checkouts ports.CheckoutStore) error {
	if len(w.streams) > 0 {
		appends := make([]ports.StreamAppend, len(w.streams))
		for i, s := range w.streams {
			p := w.appends[s]
			appends[i] = ports.StreamAppend{Stream: s, ExpectedVersion: p.expected, Events: p.events}
		}
		if err := events.AppendMany(ctx, appends); err != nil {
			return err
		}
	}
	saves := make([]ports.Checkout, len(w.orders))
	for i, id := range w.orders {
		saves[i] = w.checkouts[id]
	}
	return checkouts.SaveMany(ctx, saves)
}

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
