package eventwire

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

func setIf(md message.Metadata, k, v string) {
	if v != "" {
		md.Set(k, v)
	}
}

// carrier is message metadata as the propagator's carrier.
type carrier message.Metadata

func (c carrier) Get(k string) string { return c[k] }
func (c carrier) Set(k, v string)     { c[k] = v }
func (c carrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

var _ propagation.TextMapCarrier = carrier(nil)

// StampTrace returns events with the trace context of ctx (the event
// store's append span) in their metadata, for the consumers to continue the
// trace; events that carry one already keep it. With tracing off (no span in
// ctx, or the no-op propagator) it returns events as they are, without
// copying.
func StampTrace(ctx context.Context, events []ports.NewEvent) []ports.NewEvent {
	md := carrier{}
	otel.GetTextMapPropagator().Inject(ctx, md)
	if md[KeyTraceParent] == "" {
		return events
	}
	out := make([]ports.NewEvent, len(events))
	for i, e := range events {
		if e.Metadata.TraceParent == "" {
			e.Metadata.TraceParent, e.Metadata.TraceState, e.Metadata.Baggage =
				md[KeyTraceParent], md[KeyTraceState], md[KeyBaggage]
		}
		out[i] = e
	}
	return out
}

// InjectTrace writes the trace context of ctx onto md (replacing the one
// there), as ToMessage does from the event's metadata.
func InjectTrace(ctx context.Context, md message.Metadata) {
	if md == nil {
		return
	}
	otel.GetTextMapPropagator().Inject(ctx, carrier(md))
}

// TraceContext returns ctx with the remote span context (and baggage) the
// message carries, for the consumer's span to be its child; ctx as it is
// when the message carries none (an event appended with tracing off, or
// before tracing existed: its consumer starts a new trace).
func TraceContext(ctx context.Context, msg *message.Message) context.Context {
	return otel.GetTextMapPropagator().Extract(ctx, carrier(msg.Metadata))
}
