package command

import (
	"context"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/ports"
)

// RebuildProjection rebuilds a projection's read model from the event store
// beside the live one and swaps it in (projection.OrderSummaryRebuild).
// Projection must be projection.OrderSummaryName, the one rebuildable
// projection. From, when not zero, resumes an interrupted rebuild after the
// Position its last progress report showed.
type RebuildProjection struct {
	Projection string
	From       ports.Position
	// BatchSize is how many events one read returns, and WorkingSet how
	// many order rows the rebuild holds in memory at most; the defaults of
	// projection.OrderSummaryRebuild if 0.
	BatchSize, WorkingSet int
	// Progress, optional, is called after each batch (a progress bar, a log
	// line): it runs on the rebuild's goroutine, so it should be quick.
	Progress func(projection.RebuildProgress)
}

// countCheckpoint is a checkpoint name that is never saved: its lag counts
// every stored event.
const countCheckpoint = "orderflow.replay.count"

// RebuildProjectionHandler runs RebuildProjection.
type RebuildProjectionHandler struct {
	events      ports.EventStore
	live        ports.OrderSummaryStore
	shadow      ports.ShadowOrderSummary
	checkpoints ports.CheckpointStore
}

// NewRebuildProjectionHandler rebuilds live through shadow from events.
// checkpoints is optional: with it, progress reports carry the number of
// stored events (for an ETA) and the catch-up after the swap reads at least
// as many events as were stored at the swap.
func NewRebuildProjectionHandler(events ports.EventStore, live ports.OrderSummaryStore, shadow ports.ShadowOrderSummary,
	checkpoints ports.CheckpointStore) RebuildProjectionHandler {
	if events == nil || live == nil || shadow == nil {
		panic("command: nil event store, read model or shadow")
	}
	return RebuildProjectionHandler{events: events, live: live, shadow: shadow, checkpoints: checkpoints}
}

// Handle rebuilds. The result is valid with an error too: its Position is
// where a new run can resume. Errors leave the live table untouched unless
// they happen in the catch-up after the swap.
func (h RebuildProjectionHandler) Handle(ctx context.Context, cmd RebuildProjection) (projection.RebuildResult, error) {
	if cmd.Projection != projection.OrderSummaryName {
		return projection.RebuildResult{}, apperr.New(apperr.Invalid, "unknown projection %q (known: %s)",
			cmd.Projection, projection.OrderSummaryName)
	}
	r := projection.OrderSummaryRebuild{Events: h.events, Live: h.live, Shadow: h.shadow,
		BatchSize: cmd.BatchSize, WorkingSet: cmd.WorkingSet, Progress: cmd.Progress}
	if h.checkpoints != nil {
		r.Count = func(ctx context.Context) (int64, error) {
			lag, err := h.checkpoints.Lag(ctx, countCheckpoint)
			return lag.Events, err
		}
	}
	return r.Run(ctx, cmd.From)
}
