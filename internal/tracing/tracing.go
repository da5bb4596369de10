// Package tracing is the little the adapters, the outbox forwarder and the
// router share to start and end their spans on the OpenTelemetry API: the
// global tracer provider, which package telemetry installs (or nothing, and
// every span is a non-recording no-op), the attribute names of the
// project's own spans, and End, which records an error once.
package tracing

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Scope is the instrumentation scope of the project's own spans.
const Scope = "github.com/orderflow/orderflow"

// Attribute keys of the project's spans.
const (
	StreamType  = attribute.Key("orderflow.stream.type")
	StreamID    = attribute.Key("orderflow.stream.id")
	EventCount  = attribute.Key("orderflow.events.count")
	Version     = attribute.Key("orderflow.stream.version") // expected version of an append, first version read by a load
	NextVersion = attribute.Key("orderflow.stream.next_version")
	Streams     = attribute.Key("orderflow.streams.count")
	EventType   = attribute.Key("orderflow.event.type")
	EventID     = attribute.Key("orderflow.event.id")
	Handler     = attribute.Key("orderflow.handler")
	Outcome     = attribute.Key("orderflow.outcome")
	Attempts    = attribute.Key("orderflow.attempts")
	DBSystem    = attribute.Key("db.system.name")
	MsgSystem   = attribute.Key("messaging.system")
	MsgDest     = attribute.Key("messaging.destination.name")
	MsgID       = attribute.Key("messaging.message.id")
	MsgBatch    = attribute.Key("messaging.batch.message_count")
	MsgOp       = attribute.Key("messaging.operation.type")
	MsgConsumer = attribute.Key("messaging.consumer.group.name")
)

// Tracer is the project's tracer on the global provider. It is looked up at
// each call, so a provider installed later (or by a test) is the one used.
func Tracer() trace.Tracer { return otel.Tracer(Scope) }

// Start starts a span of kind on the project's tracer.
func Start(ctx context.Context, name string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return Tracer().Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}

// End ends span, with err recorded and the status Error when err is not nil.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
