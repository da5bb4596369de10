package projection

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// The spans of a rebuild: one per batch of events read (in both phases),
// and one per write to the shadow table, which runs beside the batches
// after the one that started it.
const (
	rebuildBatchSpan = "projection.rebuild batch"
	rebuildWriteSpan = "projection.rebuild write"
)

// fold is the rebuild phase of OrderSummaryRebuild: it reads the event
// store in large batches and folds each event into an in-memory row of its
// order with Fold (the live projector's rule), and writes the changed rows
// to the shadow table in bulk (ShadowOrderSummaryStore.PutMany) rather than
// one conditional write per order and batch: the rows of orders it has not
// written yet nor read back as plain inserts (COPY on Postgres), the others
// with the version guard.
//
// The changed rows go to be written every FlushRows of them (or two
// seconds), by one write at a time beside the fold: while one is under way
// the fold goes on, and the rows changed meanwhile go with the next.
// Memory is bounded by WorkingSet rows (plus one batch of new ones): past
// it, the rows least recently changed among those written (or being
// written) are dropped; only if too few are does the fold wait for the
// write under way and send the rest first. An event of an order whose row
// is not in memory reads the row back from the shadow table first
// (GetMany, once per batch, after the write under way), so
// orders whose events are spread across the whole store come out the same
// as orders whose events are adjacent, only slower. The first event of an
// order needs no read on a fresh rebuild: nothing can be stored for it yet.
type fold struct {
	r        OrderSummaryRebuild
	shadow   ports.ShadowOrderSummaryStore
	fresh    bool
	pos      ports.Position // the last event read
	durable  ports.Position // the last event whose effects are all written
	read     int64
	peak     int
	readBack int64

	rows      map[string]*foldRow
	seen      map[string]bool // load's orders of the batch not in memory
	dirty     []*foldRow
	seq       uint64 // events folded so far: the rows' recency
	batches   uint64 // batches folded so far
	lastFlush time.Time
	// writing, when not nil, is the flush under way: it reports its error,
	// and all events up to writingPos are written once it succeeds.
	writing    chan error
	writingPos ports.Position
}

type foldRow struct {
	row   ports.OrderSummary
	dirty bool
	// stored: the shadow table may hold a row of this order (it was read
	// back, or written by this run); a row not stored is written with
	// PutMany's added, the cheap plain insert.
	stored  bool
	touched uint64 // the fold's seq when an event of the order was last folded
	batch   uint64 // the last batch that changed the row
}

func newFold(r OrderSummaryRebuild, shadow ports.ShadowOrderSummaryStore, from ports.Position) *fold {
	return &fold{r: r, shadow: shadow, fresh: from == (ports.Position{}), pos: from, durable: from,
		rows: make(map[string]*foldRow), seen: make(map[string]bool), lastFlush: time.Now()}
}

// batchResult is one ReadAll, read and decoded ahead of the fold.
type batchResult struct {
	events  []ports.RecordedEvent
	decoded []order.Event // decoded[i] is events[i]'s, nil if not an order's or undecodable
	err     error
}

// run reads every event after the starting position and leaves all of
// their effects written to the shadow table. Three stages overlap: reading
// the next batch, decoding the one after the batch being read (on every
// core: decoding is most of the projection's work), and folding; writes to
// the shadow table run beside the fold too.
func (f *fold) run(ctx context.Context, total int64, start time.Time) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer func() {
		if werr := f.wait(); err == nil {
			err = werr
		}
	}()
	read := make(chan batchResult, 1)
	go f.readAhead(ctx, read)
	decoded := make(chan batchResult, 1)
	go decodeAhead(ctx, read, decoded)
	for b := range decoded {
		if b.err != nil {
			return b.err
		}
		if len(b.events) == 0 {
			break
		}
		if err := f.tracedBatch(ctx, b); err != nil {
			return err
		}
		if f.r.Progress != nil {
			f.r.Progress(RebuildProgress{Phase: "rebuild", Events: f.read, Total: total, Position: f.durable, Elapsed: time.Since(start)})
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.startFlush(ctx); err != nil {
		return err
	}
	return f.wait()
}

// readAhead sends batches of ReadAll to out until the end (an empty batch)
// or an error.
func (f *fold) readAhead(ctx context.Context, out chan<- batchResult) {
	defer close(out)
	pos := f.pos
	for {
		events, err := f.r.Events.ReadAll(ctx, pos, f.r.BatchSize)
		if err != nil {
			err = apperr.Wrap(apperr.Unavailable, err, "rebuild: read events after %v", pos)
		}
		select {
		case out <- batchResult{events: events, err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil || len(events) == 0 {
			return
		}
		pos = events[len(events)-1].Position
	}
}

// decodeAhead decodes the order events of each batch of in, split across
// the cores, and passes the batch on. An undecodable event is left nil:
// the fold decodes it again and fails on it only if it applies it.
func decodeAhead(ctx context.Context, in <-chan batchResult, out chan<- batchResult) {
	defer close(out)
	workers := runtime.GOMAXPROCS(0)
	for b := range in {
		if b.err == nil && len(b.events) > 0 {
			b.decoded = make([]order.Event, len(b.events))
			var wg sync.WaitGroup
			per := (len(b.events) + workers - 1) / workers
			for lo := 0; lo < len(b.events); lo += per {
				hi := min(lo+per, len(b.events))
				wg.Go(func() {
					for i := lo; i < hi; i++ {
						if b.events[i].Stream.Type == order.AggregateType {
							b.decoded[i], _ = repository.Decode(b.events[i])
						}
					}
				})
			}
			wg.Wait()
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return
		}
	}
}

// tracedBatch is batch in a span of its own (rebuildBatchSpan), with the
// batch's events, the rows they changed and read back, and the rows held.
func (f *fold) tracedBatch(ctx context.Context, b batchResult) error {
	ctx, span := tracer().Start(ctx, rebuildBatchSpan, trace.WithAttributes(
		attribute.String("orderflow.projection", OrderSummaryName), attribute.String("orderflow.rebuild.phase", "rebuild"),
		attribute.Int("orderflow.rebuild.events", len(b.events))))
	readBack := f.readBack
	changed, err := f.batch(ctx, b)
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("orderflow.rebuild.rows", changed),
			attribute.Int64("orderflow.rebuild.rows_read_back", f.readBack-readBack),
			attribute.Int("orderflow.rebuild.rows_held", len(f.rows)))
	}
	endSpan(span, err)
	return err
}

// batch folds one batch of events, then writes and evicts as needed. It
// returns how many order rows the batch changed.
func (f *fold) batch(ctx context.Context, b batchResult) (int, error) {
	events := b.events
	if err := f.load(ctx, events); err != nil {
		return 0, err
	}
	f.batches++
	changed := 0
	for i := range events {
		e := &events[i]
		if e.Stream.Type != order.AggregateType {
			continue
		}
		fr := f.rows[e.Stream.ID]
		if fr == nil {
			fr = &foldRow{}
			f.rows[e.Stream.ID] = fr
		}
		row, err := foldFillingDecoded(ctx, f.r.Events, fr.row, events[i:i+1], b.decoded[i:i+1])
		if err != nil {
			return changed, fmt.Errorf("rebuild: event %v: %w", e.Position, err)
		}
		f.seq++
		fr.touched = f.seq
		if row.Version != fr.row.Version {
			if fr.batch != f.batches {
				fr.batch = f.batches
				changed++
			}
			fr.row = row
			if !fr.dirty {
				fr.dirty = true
				f.dirty = append(f.dirty, fr)
			}
		}
	}
	f.read += int64(len(events))
	f.pos = events[len(events)-1].Position
	f.peak = max(f.peak, len(f.rows))
	if len(f.dirty) >= f.r.FlushRows || time.Since(f.lastFlush) >= flushInterval {
		// The changed rows go to be written, unless the last write is
		// still under way: then they wait for a later batch, and the fold
		// goes on meanwhile.
		idle, err := f.idle()
		if err != nil {
			return changed, err
		}
		if idle {
			if err := f.startFlush(ctx); err != nil {
				return changed, err
			}
		}
	}
	if len(f.rows) > f.r.WorkingSet && !f.evict() {
		// Too few rows written to drop: wait for the write under way, send
		// every changed row, and drop.
		if err := f.startFlush(ctx); err != nil {
			return changed, err
		}
		f.evict()
	}
	return changed, nil
}

// load reads from the shadow table the rows of the orders of events that
// are not in memory and may be stored: every one but the first event of an
// order on a fresh rebuild.
func (f *fold) load(ctx context.Context, events []ports.RecordedEvent) error {
	var ids []string
	clear(f.seen)
	for _, e := range events {
		if e.Stream.Type != order.AggregateType {
			continue
		}
		if _, ok := f.rows[e.Stream.ID]; ok || f.seen[e.Stream.ID] {
			continue
		}
		// The first event of this batch of an order not in memory decides.
		f.seen[e.Stream.ID] = true
		if f.fresh && e.Version == 1 {
			continue
		}
		ids = append(ids, e.Stream.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	if err := f.wait(); err != nil { // rows dropped from memory are written by now
		return err
	}
	stored, err := f.shadow.GetMany(ctx, ids)
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err, "rebuild: read back %d rows", len(ids))
	}
	for _, row := range stored {
		f.rows[row.OrderID] = &foldRow{row: row, stored: true}
	}
	f.readBack += int64(len(stored))
	return nil
}

// startFlush waits for the flush under way, then starts writing every
// changed row; once that succeeds (wait), the events read so far are all
// in the shadow table. The rows are copied: the fold goes on changing
// them meanwhile (their Items are replaced, never changed in place). Rows
// of orders the shadow table cannot hold yet go as PutMany's added.
func (f *fold) startFlush(ctx context.Context) error {
	if err := f.wait(); err != nil {
		return err
	}
	added, changed := make([]ports.OrderSummary, 0, len(f.dirty)), []ports.OrderSummary(nil)
	for _, fr := range f.dirty {
		if fr.stored {
			changed = append(changed, fr.row)
		} else {
			added = append(added, fr.row)
		}
		fr.dirty, fr.stored = false, true
	}
	f.dirty = f.dirty[:0]
	f.lastFlush = time.Now()
	f.writing, f.writingPos = make(chan error, 1), f.pos
	go func(done chan<- error) {
		ctx, span := tracer().Start(ctx, rebuildWriteSpan, trace.WithAttributes(
			attribute.String("orderflow.projection", OrderSummaryName),
			attribute.Int("orderflow.rebuild.rows_added", len(added)), attribute.Int("orderflow.rebuild.rows_changed", len(changed))))
		err := f.shadow.PutMany(ctx, added, changed)
		if err != nil {
			err = apperr.Wrap(apperr.Unavailable, err, "rebuild: write %d rows", len(added)+len(changed))
		}
		endSpan(span, err)
		done <- err
	}(f.writing)
	return nil
}

// idle reports whether no flush is under way, collecting the outcome of
// one that ended, without waiting.
func (f *fold) idle() (bool, error) {
	if f.writing == nil {
		return true, nil
	}
	select {
	case err := <-f.writing:
		f.writing = nil
		if err == nil {
			f.durable = f.writingPos
		}
		return true, err
	default:
		return false, nil
	}
}

// wait waits for the flush under way, if any.
func (f *fold) wait() error {
	if f.writing == nil {
		return nil
	}
	err := <-f.writing
	f.writing = nil
	if err == nil {
		f.durable = f.writingPos
	}
	return err
}

// evict drops the rows least recently changed among those written (or in
// the write under way: a row dropped is read back only after it, as load
// waits for it), down to three quarters of the working set if enough are.
// It reports whether the rows held are within the working set.
func (f *fold) evict() bool {
	drop := len(f.rows) - (f.r.WorkingSet - f.r.WorkingSet/4)
	if drop <= 0 {
		return true
	}
	touched := make([]uint64, 0, len(f.rows))
	for _, fr := range f.rows {
		if !fr.dirty {
			touched = append(touched, fr.touched)
		}
	}
	if drop = min(drop, len(touched)); drop > 0 {
		slices.Sort(touched)
		cut := touched[drop-1] // written rows touched at or before it go
		for id, fr := range f.rows {
			if !fr.dirty && fr.touched <= cut {
				delete(f.rows, id)
			}
		}
	}
	return len(f.rows) <= f.r.WorkingSet
}
