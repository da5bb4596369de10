// Package projection keeps read models in step with the event stream.
package projection

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracer is the projections' tracer on OpenTelemetry's global provider
// (a no-op one unless the process turned tracing on).
func tracer() trace.Tracer { return otel.Tracer("github.com/orderflow/orderflow/app/projection") }

func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// OrderSummaryName names the projection (its consumer group and its metrics).
const OrderSummaryName = "order_summary"

// staleRetries bounds how often Handle re-reads a row another projector
// changed under it before giving up with a retryable error.
const staleRetries = 3

// OrderSummary projects order events into the order_summary read model.
//
// It is idempotent and self-healing: each row records the version of the
// last event applied; an event at or below it is a redelivery and changes
// nothing; an event more than one ahead (a message lost or reordered
// upstream) makes it read the missing events from the event store, so a gap
// never persists.
type OrderSummary struct {
	store       ports.OrderSummaryStore
	events      ports.EventStore
	cache       ports.OrderCache
	checkpoints ports.CheckpointStore
	// Set by WithCheckpointInterval: checkpoints are written by a timer.
	cp *coalesced
	// rows are the rows this projector saved last: the next event of the
	// order starts from its row here instead of reading it (see apply).
	rows *repository.Bounded[ports.OrderSummary]
}

// savedRows is how many rows a projector remembers (a few hundred bytes
// each): the orders placed in the last seconds, whose next events come soon.
const savedRows = 4096

func NewOrderSummary(store ports.OrderSummaryStore, events ports.EventStore) *OrderSummary {
	if store == nil || events == nil {
		panic("projection: nil read model store or event store")
	}
	return &OrderSummary{store: store, events: events, rows: repository.NewBounded[ports.OrderSummary](savedRows)}
}

// WithCache makes the projection keep cache in step: after each event it
// writes the row it saved (the cache's version guard keeps a slower writer
// from going back in time), or, if that fails, drops the entry. Cache errors
// never fail the event: the read model is the truth, and a cache that missed
// an update is corrected by the next event of the order or by its TTL.
func (p *OrderSummary) WithCache(cache ports.OrderCache) *OrderSummary {
	p.cache = cache
	return p
}

// WithCheckpoints makes Handle record each event's Position as the
// projection's checkpoint (OrderSummaryName) once the event is applied: the
// measure of its lag, and where a rebuild ends. Call before use.
func (p *OrderSummary) WithCheckpoints(cps ports.CheckpointStore) *OrderSummary {
	p.checkpoints = cps
	return p
}

// WithCheckpointInterval makes the checkpoint writes of WithCheckpoints
// (call it first) coalesce: Handle records the event's Position in memory,
// and the newest one is written once every interval at most, by a timer
// armed at the first event after a write, instead of by a statement of its
// own after every event. The checkpoint is the lag's bookkeeping, not the
// record of what was applied (the row's version is), so the cost is a lag
// reported up to interval too high, and after a crash a checkpoint up to
// interval behind, which the next event moves on. A failed write is
// dropped; the next event arms the timer again.
func (p *OrderSummary) WithCheckpointInterval(interval time.Duration) *OrderSummary {
	if p.checkpoints == nil || interval <= 0 {
		panic("projection: a checkpoint interval needs WithCheckpoints and a positive interval")
	}
	p.cp = &coalesced{every: interval}
	return p
}

// coalesced is the checkpoint waiting for the timer.
type coalesced struct {
	every   time.Duration
	mu      sync.Mutex
	pending ports.Position
	armed   bool
}

// checkpointLater records pos for the timer, arming it if it is not.
func (p *OrderSummary) checkpointLater(pos ports.Position) {
	p.cp.mu.Lock()
	defer p.cp.mu.Unlock()
	p.cp.pending = pos
	if !p.cp.armed {
		p.cp.armed = true
		time.AfterFunc(p.cp.every, p.flushCheckpoint)
	}
}

func (p *OrderSummary) flushCheckpoint() {
	p.cp.mu.Lock()
	pos := p.cp.pending
	p.cp.armed = false
	p.cp.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), checkpointTimeout)
	defer cancel()
	_ = p.checkpoints.SaveCheckpoint(ctx, OrderSummaryName, pos) // the next event arms the timer again
}

// DefaultCheckpointInterval is the service's WithCheckpointInterval.
const DefaultCheckpointInterval = 100 * time.Millisecond

// checkpointTimeout bounds a timer's checkpoint write.
const checkpointTimeout = 5 * time.Second

// Handle applies one recorded event. Events of other aggregates are ignored.
// An undecodable event is an apperr.Invalid error (never retried); a store
// failure is apperr.Unavailable (retry).
//
// It is exactly-once by the row itself: the row's version is the record of
// the events applied, and the save is conditional on the version read (one
// statement), so a redelivered, duplicated or concurrent copy of an event
// applies nothing twice, with no inbox and no lease. The cache is refreshed
// and the checkpoint (the lag's bookkeeping, not a record of what was
// applied) moved after the save: a crash between them leaves the
// checkpoint behind until the next event, never the row.
func (p *OrderSummary) Handle(ctx context.Context, e ports.RecordedEvent) (err error) {
	ctx, span := tracer().Start(ctx, "projection.apply "+OrderSummaryName, trace.WithAttributes(
		attribute.String("orderflow.projection", OrderSummaryName), attribute.String("orderflow.event.type", e.Type),
		attribute.String("orderflow.stream.id", e.Stream.ID), attribute.Int64("orderflow.event.version", e.Version)))
	defer func() { endSpan(span, err) }()
	row, err := p.handle(ctx, e)
	if err != nil {
		return err
	}
	if row.OrderID != "" {
		p.refreshCache(ctx, row)
	}
	if p.checkpoints == nil {
		return nil
	}
	if p.cp != nil {
		p.checkpointLater(e.Position)
		return nil
	}
	if err := p.checkpoints.SaveCheckpoint(ctx, OrderSummaryName, e.Position); err != nil {
		return apperr.Dependency(err, "cannot save the %s checkpoint", OrderSummaryName)
	}
	return nil
}

func (p *OrderSummary) handle(ctx context.Context, e ports.RecordedEvent) (ports.OrderSummary, error) {
	if e.Stream.Type != order.AggregateType {
		return ports.OrderSummary{}, nil
	}
	return p.applyWithRetry(ctx, []ports.RecordedEvent{e})
}

// HandleBatch applies events in store order, as Handle would one by one,
// but reads and writes each order's row once per batch: the rebuild's fast
// path. It records no checkpoint.
func (p *OrderSummary) HandleBatch(ctx context.Context, events []ports.RecordedEvent) error {
	var streams []string
	runs := map[string][]ports.RecordedEvent{}
	for _, e := range events {
		if e.Stream.Type != order.AggregateType {
			continue
		}
		if _, seen := runs[e.Stream.ID]; !seen {
			streams = append(streams, e.Stream.ID)
		}
		runs[e.Stream.ID] = append(runs[e.Stream.ID], e)
	}
	for _, id := range streams {
		row, err := p.applyWithRetry(ctx, runs[id])
		if err != nil {
			return err
		}
		p.refreshCache(ctx, row)
	}
	return nil
}

func (p *OrderSummary) applyWithRetry(ctx context.Context, run []ports.RecordedEvent) (ports.OrderSummary, error) {
	for attempt := 0; ; attempt++ {
		row, err := p.apply(ctx, run, attempt > 0)
		if !errors.Is(err, ports.ErrStaleWrite) {
			return row, err
		}
		trace.SpanFromContext(ctx).AddEvent("stale write, applied again", trace.WithAttributes(attribute.Int("attempt", attempt+1)))
		if attempt >= staleRetries {
			return row, apperr.Wrap(apperr.Unavailable, err, "order_summary %s keeps changing", run[0].Stream.ID)
		}
	}
}

// apply brings one order's row up to the last of run, events of that order
// in version order: one read, one conditional write. Events at or below the
// row's version are redeliveries; a gap (before or within run) is filled
// from the event store.
//
// The read is skipped when it would tell nothing new: for the row this
// projector saved last (p.rows), and for a run that starts with the
// order's first event (no row yet). The write is conditional on the
// version the row was assumed at, so a wrong assumption (another process
// moved the row, a redelivered first event, a rebuild swapped the table)
// is a stale write, and the next attempt (fresh) reads the row.
func (p *OrderSummary) apply(ctx context.Context, run []ports.RecordedEvent, fresh bool) (ports.OrderSummary, error) {
	stream, last := run[0].Stream, run[len(run)-1]
	row, known := p.rows.Get(stream.ID)
	switch {
	case fresh:
		known = false
	case !known && run[0].Version == 1:
		known = true // a new order: the zero row
	}
	if !known {
		var err error
		row, err = p.store.Get(ctx, stream.ID)
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return row, apperr.Dependency(err, "cannot read order_summary %s", stream.ID)
		}
	}
	if last.Version <= row.Version {
		// A redelivery: the row is saved, but a crash may have come between
		// the save and the cache update, which the caller refreshes.
		return row, nil
	}
	prev := row.Version
	row, err := foldFilling(ctx, p.events, row, run)
	if err != nil {
		return row, err
	}
	if err := p.store.Save(ctx, row, prev); err != nil {
		p.rows.Drop(stream.ID)
		if errors.Is(err, ports.ErrStaleWrite) {
			return row, err
		}
		return row, apperr.Dependency(err, "cannot save order_summary %s", stream.ID)
	}
	p.rows.Put(stream.ID, row)
	return row, nil
}

// foldFilling folds run (events of one order, in version order) into row
// with Fold, and fills a gap (an event more than one past the row) from the
// event store, up to the last of run. The live projector and the rebuild
// both apply events through it.
func foldFilling(ctx context.Context, events ports.EventStore, row ports.OrderSummary, run []ports.RecordedEvent) (ports.OrderSummary, error) {
	return foldFillingDecoded(ctx, events, row, run, nil)
}

// foldFillingDecoded is foldFilling with run decoded ahead (foldDecoded).
func foldFillingDecoded(ctx context.Context, events ports.EventStore, row ports.OrderSummary, run []ports.RecordedEvent,
	decoded []order.Event) (ports.OrderSummary, error) {
	row, rest, err := foldDecoded(row, run, decoded)
	if err != nil || len(rest) == 0 {
		return row, err
	}
	stream, last := run[0].Stream, run[len(run)-1]
	missing, err := events.Load(ctx, stream, row.Version+1)
	if err != nil {
		return row, apperr.Dependency(err, "cannot fill the gap in order_summary %s", stream.ID)
	}
	for i, e := range missing {
		if e.Version > last.Version {
			missing = missing[:i]
			break
		}
	}
	row, rest, err = Fold(row, missing)
	if err != nil {
		return row, err
	}
	if len(rest) > 0 {
		return row, apperr.New(apperr.Internal, "order %s: event version %d follows %d", stream.ID, rest[0].Version, row.Version)
	}
	return row, nil
}

// Fold is the projection's rule, pure: it applies to row, in order, the
// events of run (one order's, in version order) that follow it. Events at
// or below the row's version are redeliveries and change nothing. It stops
// at the first event more than one past the row (a gap) and returns the
// events from there on, unapplied. An undecodable event is an error.
func Fold(row ports.OrderSummary, run []ports.RecordedEvent) (ports.OrderSummary, []ports.RecordedEvent, error) {
	return foldDecoded(row, run, nil)
}

// foldDecoded is Fold with the events of run already decoded (decoded[i]
// is run[i]'s domain event, or nil: decode it here), for a caller that
// decodes ahead, on other cores. decoded may be nil.
func foldDecoded(row ports.OrderSummary, run []ports.RecordedEvent, decoded []order.Event) (ports.OrderSummary, []ports.RecordedEvent, error) {
	for i, re := range run {
		if re.Version <= row.Version {
			continue
		}
		if re.Version != row.Version+1 {
			return row, run[i:], nil
		}
		var domainEvent order.Event
		if decoded != nil {
			domainEvent = decoded[i]
		}
		if domainEvent == nil {
			var err error
			if domainEvent, err = repository.Decode(re); err != nil {
				return row, nil, fmt.Errorf("order_summary: %w", err)
			}
		}
		row = applyTo(row, domainEvent, re)
	}
	return row, nil, nil
}

// refreshCache updates the cached row, or drops it when the update fails.
func (p *OrderSummary) refreshCache(ctx context.Context, row ports.OrderSummary) {
	if p.cache == nil {
		return
	}
	if err := p.cache.Put(ctx, row); err != nil {
		_ = p.cache.Invalidate(ctx, row.OrderID) // best effort; counted by the cache's metrics
	}
}

// applyTo is the projection proper: the read model's own view of each event.
// Times come from the events themselves, so a rebuilt row equals the original.
func applyTo(row ports.OrderSummary, e order.Event, re ports.RecordedEvent) ports.OrderSummary {
	row.Version = re.Version
	switch e := e.(type) {
	case order.Placed:
		row.OrderID = e.OrderID
		row.CustomerID = e.CustomerID
		row.Currency = e.Currency
		row.Total = e.Total
		row.Items = make([]ports.OrderLine, len(e.Items))
		for i, it := range e.Items {
			row.Items[i] = ports.OrderLine{SKU: it.SKU, Quantity: it.Quantity, UnitPrice: it.UnitPrice}
		}
		row.CreatedAt = e.PlacedAt
		row.UpdatedAt = e.PlacedAt
		row.Status = string(order.StatusPlaced)
	case order.Confirmed:
		row.Status = string(order.StatusConfirmed)
		row.UpdatedAt = e.ConfirmedAt
	case order.Cancelled:
		row.Status = string(order.StatusCancelled)
		row.CancellationReason = e.Reason
		row.UpdatedAt = e.CancelledAt
	case order.Shipped:
		row.Status = string(order.StatusShipped)
		row.Carrier = e.Carrier
		row.TrackingNumber = e.TrackingNumber
		row.UpdatedAt = e.ShippedAt
	case order.Delivered:
		row.Status = string(order.StatusDelivered)
		row.UpdatedAt = e.DeliveredAt
	}
	return row
}
