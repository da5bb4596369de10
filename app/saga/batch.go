package saga

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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
