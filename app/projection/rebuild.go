package projection

import (
	"context"
	"fmt"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// RebuildProgress is reported after every batch of a rebuild.
type RebuildProgress struct {
	Phase    string // "rebuild" (into the shadow table) or "catch-up" (after the swap)
	Events   int64  // events read so far in this phase
	Total    int64  // events in the store when the rebuild started (0: unknown)
	Position ports.Position
	Elapsed  time.Duration
}

// RebuildResult sums up a finished rebuild.
type RebuildResult struct {
	Events   int64 // events read into the shadow table
	CaughtUp int64 // events read again after the swap
	Position ports.Position
	Elapsed  time.Duration
	// PeakRows is the most order rows the rebuild held in memory at once:
	// at most WorkingSet plus one batch.
	PeakRows int
	// ReadBack counts the rows read back from the shadow table for an
	// event of an order no longer in memory.
	ReadBack int64
}

// OrderSummaryRebuild rebuilds the order_summary read model from the event
// store with no downtime: the events are projected into a shadow table while
// the live one keeps serving (and the live projector keeps updating it),
// then the shadow replaces the live table in one transaction, then a
// catch-up pass re-reads the events after the rebuild's last position into
// the new live table, for those the live projector applied to the old table
// between the end of the rebuild and the swap. The projection is idempotent
// and version-checked, so the catch-up and the live projector never undo
// each other.
//
// A rebuild has no side effects beyond the read model: it calls no handler
// but the projection, publishes nothing and touches no checkpoint.
type OrderSummaryRebuild struct {
	Events ports.EventStore
	Live   ports.OrderSummaryStore
	Shadow ports.ShadowOrderSummary
	// Count, optional, counts the stored events, for progress (ETA).
	Count func(ctx context.Context) (int64, error)
	// BatchSize is how many events one ReadAll returns; DefaultRebuildBatch
	// if 0.
	BatchSize int
	// WorkingSet caps the order rows held in memory while folding;
	// DefaultWorkingSet if 0. Past it, the rows least recently changed
	// are dropped (they are written first) and read back from the shadow
	// table if a later event of their order comes.
	WorkingSet int
	// FlushRows is how many changed rows make a write to the shadow table
	// (more if the last write was still under way); WorkingSet/4 if 0.
	// Changed rows are also written at least every flushInterval, so that
	// the Position to resume from moves on.
	FlushRows int
	// Progress, optional, is called after each batch. Its Position is the
	// last one whose events are all written to the shadow table: where an
	// interrupted rebuild resumes.
	Progress func(RebuildProgress)
}

// Defaults of OrderSummaryRebuild.
const (
	DefaultRebuildBatch = 5000
	DefaultWorkingSet   = 100_000
	flushInterval       = 2 * time.Second
)

// Run rebuilds. With from the zero Position it starts a fresh shadow table;
// with from set it resumes an interrupted rebuild's shadow table after from
// (the Position its last progress report showed). Errors leave the live
// table untouched; a resumed run can continue from the last reported
// Position.
func (r OrderSummaryRebuild) Run(ctx context.Context, from ports.Position) (RebuildResult, error) {
	if r.Events == nil || r.Live == nil || r.Shadow == nil {
		return RebuildResult{}, apperr.New(apperr.Internal, "rebuild: event store, live store and shadow are required")
	}
	if r.BatchSize == 0 {
		r.BatchSize = DefaultRebuildBatch
	}
	if r.WorkingSet == 0 {
		r.WorkingSet = DefaultWorkingSet
	}
	if r.FlushRows == 0 {
		r.FlushRows = max(r.WorkingSet/4, 1)
	}
	if r.BatchSize < 1 || r.WorkingSet < 1 || r.FlushRows < 1 {
		return RebuildResult{}, apperr.New(apperr.Invalid, "rebuild: batch size %d, working set %d, flush rows %d: want at least 1",
			r.BatchSize, r.WorkingSet, r.FlushRows)
	}
	start := time.Now()
	var total int64
	if r.Count != nil {
		n, err := r.Count(ctx)
		if err != nil {
			return RebuildResult{}, apperr.Wrap(apperr.Unavailable, err, "rebuild: cannot count events")
		}
		total = n
	}
	shadow, err := r.Shadow.Shadow(ctx, from == (ports.Position{}))
	if err != nil {
		return RebuildResult{}, apperr.Wrap(apperr.Unavailable, err, "rebuild: shadow table")
	}
	res := RebuildResult{Position: from}
	f := newFold(r, shadow, from)
	err = f.run(ctx, total, start)
	res.Events, res.Position, res.PeakRows, res.ReadBack = f.read, f.durable, f.peak, f.readBack
	if err != nil {
		return res, err
	}
	if err := r.Shadow.Swap(ctx); err != nil {
		return res, apperr.Wrap(apperr.Unavailable, err, "rebuild: swap")
	}
	// A fresh rebuild knows how many events must be read in all: at least
	// as many as were stored at the swap. Reading on until then covers
	// events that ReadAll still hid (an older transaction open elsewhere)
	// when the rebuild phase saw the end.
	var atLeast int64
	if r.Count != nil && from == (ports.Position{}) {
		n, err := r.Count(ctx)
		if err != nil {
			return res, apperr.Wrap(apperr.Unavailable, err, "catch-up: cannot count events")
		}
		atLeast = n - res.Events
	}
	res.CaughtUp, res.Position, err = r.project(ctx, "catch-up", NewOrderSummary(r.Live, r.Events), res.Position, 0, atLeast, start)
	res.Elapsed = time.Since(start)
	return res, err
}

// catchUpPatience bounds how long the catch-up waits for events it knows
// are stored to become visible to ReadAll.
const catchUpPatience = time.Minute

// project reads every event after from into p, at least atLeast of them,
// and returns how many it read and the last Position.
func (r OrderSummaryRebuild) project(ctx context.Context, phase string, p *OrderSummary, from ports.Position, total, atLeast int64, start time.Time) (int64, ports.Position, error) {
	var n int64
	pos := from
	deadline := time.Now().Add(catchUpPatience)
	for {
		batch, err := r.Events.ReadAll(ctx, pos, r.BatchSize)
		if err != nil {
			return n, pos, apperr.Wrap(apperr.Unavailable, err, "%s: read events after %v", phase, pos)
		}
		if len(batch) == 0 {
			if n >= atLeast {
				return n, pos, nil
			}
			if time.Now().After(deadline) {
				return n, pos, apperr.New(apperr.Unavailable,
					"%s: read %d of at least %d events after %v; run the rebuild again", phase, n, atLeast, from)
			}
			select {
			case <-ctx.Done():
				return n, pos, ctx.Err()
			case <-time.After(20 * time.Millisecond): // a poll interval: events become visible on commit
			}
			continue
		}
		bctx, span := tracer().Start(ctx, rebuildBatchSpan, trace.WithAttributes(
			attribute.String("orderflow.projection", OrderSummaryName), attribute.String("orderflow.rebuild.phase", phase),
			attribute.Int("orderflow.rebuild.events", len(batch))))
		err = p.HandleBatch(bctx, batch)
		endSpan(span, err)
		if err != nil {
			return n, pos, fmt.Errorf("%s: events after %v: %w", phase, pos, err)
		}
		pos = batch[len(batch)-1].Position
		n += int64(len(batch))
		if r.Progress != nil {
			r.Progress(RebuildProgress{Phase: phase, Events: n, Total: total, Position: pos, Elapsed: time.Since(start)})
		}
	}
}
