package sqlite

import (
	"context"

	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/tracing"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// The event store's spans: one per Append, AppendMany, Load and ReadAll
// (hand-made: no maintained OpenTelemetry instrumentation of the driver is
// available here). Append and AppendMany store the span's trace context in
// each event's metadata (eventwire.StampTrace), which the outbox carries to
// the consumers.

var dbSystem = tracing.DBSystem.String("sqlite")

// Append implements ports.EventStore: see appendEvents.
func (s *EventStore) Append(ctx context.Context, stream ports.Stream, expectedVersion int64, events []ports.NewEvent) (res ports.AppendResult, err error) {
	ctx, span := tracing.Start(ctx, "eventstore.append", trace.SpanKindInternal, dbSystem,
		tracing.StreamType.String(stream.Type), tracing.StreamID.String(stream.ID),
		tracing.EventCount.Int(len(events)), tracing.Version.Int64(expectedVersion))
	defer func() {
		if err == nil {
			span.SetAttributes(tracing.NextVersion.Int64(res.NextExpectedVersion))
		}
		tracing.End(span, err)
	}()
	return s.appendEvents(ctx, stream, expectedVersion, eventwire.StampTrace(ctx, events))
}

// AppendMany implements ports.EventStore: see appendMany.
func (s *EventStore) AppendMany(ctx context.Context, appends []ports.StreamAppend) (err error) {
	n := 0
	for _, a := range appends {
		n += len(a.Events)
	}
	ctx, span := tracing.Start(ctx, "eventstore.append_many", trace.SpanKindInternal, dbSystem,
		tracing.Streams.Int(len(appends)), tracing.EventCount.Int(n))
	defer func() { tracing.End(span, err) }()
	if span.IsRecording() {
		ids := make([]string, len(appends))
		for i, a := range appends {
			ids[i] = a.Stream.String()
		}
		span.SetAttributes(attribute.StringSlice("orderflow.streams", ids))
	}
	stamped := make([]ports.StreamAppend, len(appends))
	for i, a := range appends {
		a.Events = eventwire.StampTrace(ctx, a.Events)
		stamped[i] = a
	}
	return s.appendMany(ctx, stamped)
}

// Load implements ports.EventStore: see load.
func (s *EventStore) Load(ctx context.Context, stream ports.Stream, fromVersion int64) (events []ports.RecordedEvent, err error) {
	ctx, span := tracing.Start(ctx, "eventstore.load", trace.SpanKindInternal, dbSystem,
		tracing.StreamType.String(stream.Type), tracing.StreamID.String(stream.ID), tracing.Version.Int64(fromVersion))
	defer func() {
		span.SetAttributes(tracing.EventCount.Int(len(events)))
		tracing.End(span, err)
	}()
	return s.load(ctx, stream, fromVersion)
}

// ReadAll implements ports.EventStore: see readAll.
//
// A read outside any trace (a poller's) is not a trace of its own: it would
// be one root span per poll.
func (s *EventStore) ReadAll(ctx context.Context, after ports.Position, limit int) (events []ports.RecordedEvent, err error) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return s.readAll(ctx, after, limit)
	}
	ctx, span := tracing.Start(ctx, "eventstore.read_all", trace.SpanKindInternal, dbSystem,
		attribute.String("orderflow.position.after", after.String()), attribute.Int("orderflow.limit", limit))
	defer func() {
		span.SetAttributes(tracing.EventCount.Int(len(events)))
		tracing.End(span, err)
	}()
	return s.readAll(ctx, after, limit)
}
