package projection

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/ports"
)

// fold is the rebuild phase of OrderSummaryRebuild: it reads the event
// store in large batches and folds each event into an in-memory row of its
// order with Fold (the live projector's rule), and writes the changed rows
// to the shadow table in bulk (ShadowOrderSummaryStore.PutMany) rather than
// one conditional write per order and batch.
//
// Memory is bounded by WorkingSet rows (plus one batch of new ones): past
// it, every changed row is written, then the rows least recently changed
// are dropped. An event of an order whose row is not in memory reads the
// row back from the shadow table first (GetMany, once per batch), so
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
	dirty     []*foldRow
	seq       uint64 // events folded so far: the rows' recency
	lastFlush time.Time
}

type foldRow struct {
	row     ports.OrderSummary
	dirty   bool
	touched uint64
}

func newFold(r OrderSummaryRebuild, shadow ports.ShadowOrderSummaryStore, from ports.Position) *fold {
	return &fold{r: r, shadow: shadow, fresh: from == (ports.Position{}), pos: from, durable: from,
		rows: make(map[string]*foldRow), lastFlush: time.Now()}
}

// batchResult is one ReadAll, read ahead of the fold.
type batchResult struct {
	events []ports.RecordedEvent
	err    error
}

// run reads every event after the starting position and leaves all of
// their effects written to the shadow table.
func (f *fold) run(ctx context.Context, total int64, start time.Time) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// One read ahead: the store reads the next batch while this one folds.
	batches := make(chan batchResult, 1)
	go func() {
		defer close(batches)
		pos := f.pos
		for {
			events, err := f.r.Events.ReadAll(ctx, pos, f.r.BatchSize)
			if err != nil {
				err = apperr.Wrap(apperr.Unavailable, err, "rebuild: read events after %v", pos)
			}
			select {
			case batches <- batchResult{events, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || len(events) == 0 {
				return
			}
			pos = events[len(events)-1].Position
		}
	}()
	for b := range batches {
		if b.err != nil {
			return b.err
		}
		if len(b.events) == 0 {
			break
		}
		if err := f.batch(ctx, b.events); err != nil {
			return err
		}
		if f.r.Progress != nil {
			f.r.Progress(RebuildProgress{Phase: "rebuild", Events: f.read, Total: total, Position: f.durable, Elapsed: time.Since(start)})
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.flush(ctx)
}

// batch folds one batch of events, then writes and evicts as needed.
func (f *fold) batch(ctx context.Context, events []ports.RecordedEvent) error {
	if err := f.load(ctx, events); err != nil {
		return err
	}
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
		row, err := foldFilling(ctx, f.r.Events, fr.row, events[i:i+1])
		if err != nil {
			return fmt.Errorf("rebuild: event %v: %w", e.Position, err)
		}
		f.seq++
		fr.touched = f.seq
		if row.Version != fr.row.Version {
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
	over := len(f.rows) > f.r.WorkingSet
	if over || len(f.dirty) >= f.r.FlushRows || time.Since(f.lastFlush) >= flushInterval {
		if err := f.flush(ctx); err != nil {
			return err
		}
	}
	if over {
		f.evict()
	}
	return nil
}

// load reads from the shadow table the rows of the orders of events that
// are not in memory and may be stored: every one but the first event of an
// order on a fresh rebuild.
func (f *fold) load(ctx context.Context, events []ports.RecordedEvent) error {
	var ids []string
	seen := map[string]bool{} // orders of this batch already looked at
	for _, e := range events {
		if e.Stream.Type != order.AggregateType || seen[e.Stream.ID] {
			continue
		}
		seen[e.Stream.ID] = true
		if _, ok := f.rows[e.Stream.ID]; ok || (f.fresh && e.Version == 1) {
			continue
		}
		ids = append(ids, e.Stream.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	stored, err := f.shadow.GetMany(ctx, ids)
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err, "rebuild: read back %d rows", len(ids))
	}
	for _, row := range stored {
		f.rows[row.OrderID] = &foldRow{row: row}
	}
	f.readBack += int64(len(stored))
	return nil
}

// flush writes every changed row; the events read so far are then all in
// the shadow table.
func (f *fold) flush(ctx context.Context) error {
	if len(f.dirty) > 0 {
		rows := make([]ports.OrderSummary, len(f.dirty))
		for i, fr := range f.dirty {
			rows[i] = fr.row
		}
		if err := f.shadow.PutMany(ctx, rows); err != nil {
			return apperr.Wrap(apperr.Unavailable, err, "rebuild: write %d rows", len(rows))
		}
		for _, fr := range f.dirty {
			fr.dirty = false
		}
		f.dirty = f.dirty[:0]
	}
	f.durable = f.pos
	f.lastFlush = time.Now()
	return nil
}

// evict drops the rows least recently changed, all written, down to three
// quarters of the working set.
func (f *fold) evict() {
	keep := f.r.WorkingSet - f.r.WorkingSet/4
	if len(f.rows) <= keep {
		return
	}
	touched := make([]uint64, 0, len(f.rows))
	for _, fr := range f.rows {
		touched = append(touched, fr.touched)
	}
	slices.Sort(touched)
	cut := touched[len(touched)-keep] // rows touched before it go
	for id, fr := range f.rows {
		if fr.touched < cut {
			delete(f.rows, id)
		}
	}
}
