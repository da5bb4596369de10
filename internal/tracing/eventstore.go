package tracing

import (
	"context"

	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// EventStore puts the event store's spans around an adapter's methods: one
// per Append, AppendMany, Load and ReadAll (hand-made: no maintained
// OpenTelemetry instrumentation of the drivers is available here). Append
// and AppendMany store the span's trace context in each event's metadata
// (eventwire.StampTrace), which the outbox carries to the consumers.
type EventStore struct {
	System     attribute.KeyValue // DBSystem of the database
	AppendFn   func(context.Context, ports.Stream, int64, []ports.NewEvent) (ports.AppendResult, error)
	AppendMany func(context.Context, []ports.StreamAppend) error
	LoadFn     func(context.Context, ports.Stream, int64) ([]ports.RecordedEvent, error)
	ReadAllFn  func(context.Context, ports.Position, int) ([]ports.RecordedEvent, error)
	// LockFn, where the store has it, is ports.StreamLocker's LockStreams.
	LockFn func(context.Context, ...ports.Stream) error
	// LoadStreamsFn is ports.StreamsLoader's LoadStreams.
	LoadStreamsFn func(context.Context, []ports.Stream) (map[ports.Stream][]ports.RecordedEvent, error)
	// LoadStatesFn is ports.StatesLoader's LoadStates.
	LoadStatesFn func(context.Context, []ports.StateRead, bool) (map[ports.Stream]ports.StreamState, error)
}

// LoadStates is LoadStatesFn in its span, which lasts as long as the wait
// for the locks, when it takes them.
func (t EventStore) LoadStates(ctx context.Context, reads []ports.StateRead, lock bool) (_ map[ports.Stream]ports.StreamState, err error) {
	ctx, span := Start(ctx, "eventstore.load_states", trace.SpanKindInternal, t.System, Streams.Int(len(reads)),
		attribute.Bool("orderflow.lock", lock))
	defer func() { End(span, err) }()
	return t.LoadStatesFn(ctx, reads, lock)
}

// LoadStreams is LoadStreamsFn in its span.
func (t EventStore) LoadStreams(ctx context.Context, streams []ports.Stream) (_ map[ports.Stream][]ports.RecordedEvent, err error) {
	ctx, span := Start(ctx, "eventstore.load_streams", trace.SpanKindInternal, t.System, Streams.Int(len(streams)))
	defer func() { End(span, err) }()
	return t.LoadStreamsFn(ctx, streams)
}

// LockStreams is LockFn in its span, which lasts as long as the wait for
// the streams' writers ahead.
func (t EventStore) LockStreams(ctx context.Context, streams ...ports.Stream) (err error) {
	ctx, span := Start(ctx, "eventstore.lock", trace.SpanKindInternal, t.System, Streams.Int(len(streams)))
	defer func() { End(span, err) }()
	if span.IsRecording() {
		ids := make([]string, len(streams))
		for i, s := range streams {
			ids[i] = s.String()
		}
		span.SetAttributes(attribute.StringSlice("orderflow.streams", ids))
	}
	return t.LockFn(ctx, streams...)
}

// Append is AppendFn in its span.
func (t EventStore) Append(ctx context.Context, stream ports.Stream, expectedVersion int64, events []ports.NewEvent) (res ports.AppendResult, err error) {
	ctx, span := Start(ctx, "eventstore.append", trace.SpanKindInternal, t.System,
		StreamType.String(stream.Type), StreamID.String(stream.ID),
		EventCount.Int(len(events)), Version.Int64(expectedVersion))
	defer func() {
		if err == nil {
			span.SetAttributes(NextVersion.Int64(res.NextExpectedVersion))
		}
		End(span, err)
	}()
	return t.AppendFn(ctx, stream, expectedVersion, eventwire.StampTrace(ctx, events))
}

// AppendAll is AppendMany in its span.
func (t EventStore) AppendAll(ctx context.Context, appends []ports.StreamAppend) (err error) {
	n := 0
	for _, a := range appends {
		n += len(a.Events)
	}
	ctx, span := Start(ctx, "eventstore.append_many", trace.SpanKindInternal, t.System,
		Streams.Int(len(appends)), EventCount.Int(n))
	defer func() { End(span, err) }()
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
	return t.AppendMany(ctx, stamped)
}

// Load is LoadFn in its span.
func (t EventStore) Load(ctx context.Context, stream ports.Stream, fromVersion int64) (events []ports.RecordedEvent, err error) {
	ctx, span := Start(ctx, "eventstore.load", trace.SpanKindInternal, t.System,
		StreamType.String(stream.Type), StreamID.String(stream.ID), Version.Int64(fromVersion))
	defer func() {
		span.SetAttributes(EventCount.Int(len(events)))
		End(span, err)
	}()
	return t.LoadFn(ctx, stream, fromVersion)
}

// ReadAll is ReadAllFn in its span. A read outside any trace (a poller's)
// is not a trace of its own: it would be one root span per poll.
func (t EventStore) ReadAll(ctx context.Context, after ports.Position, limit int) (events []ports.RecordedEvent, err error) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return t.ReadAllFn(ctx, after, limit)
	}
	ctx, span := Start(ctx, "eventstore.read_all", trace.SpanKindInternal, t.System,
		attribute.String("orderflow.position.after", after.String()), attribute.Int("orderflow.limit", limit))
	defer func() {
		span.SetAttributes(EventCount.Int(len(events)))
		End(span, err)
	}()
	return t.ReadAllFn(ctx, after, limit)
}
