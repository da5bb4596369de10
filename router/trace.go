package router

import (
	"context"
	"errors"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/tracing"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Outcomes of a delivery, the orderflow.outcome attribute of its span.
const (
	OutcomeOK        = "ok"                // handled (or already handled: the handler's own idempotence)
	OutcomeDuplicate = "duplicate_skipped" // the deduplication store had it as done
	OutcomePoisoned  = "poisoned"          // parked in the poison queue, and acked
	OutcomeNacked    = "nacked"            // a transient failure after the retries: redelivered later
	OutcomeSetAside  = "set_aside"         // a transient failure set aside in the retry queue, and acked
)

// delivery is what the middlewares inside traceConsume learn about one
// delivery, read back by it when the chain returns.
type delivery struct {
	attempts  int
	duplicate bool
	setAside  bool
	outcome   string
}

type deliveryKey struct{}

func deliveryOf(ctx context.Context) *delivery {
	d, _ := ctx.Value(deliveryKey{}).(*delivery)
	return d
}

// traceConsume, the outermost middleware of every route, starts the span of
// one delivery ("handle <handler>"), as a child of the span the message's
// trace context names (the forwarder's publish of the event, itself a child
// of the event's append), so the consumer continues the trace of whatever
// caused the event. A message without one (an event from before tracing,
// or appended with tracing off) starts a new trace. The span records the
// outcome the middlewares inside saw: attempts, retries, the poison queue,
// a duplicate skipped.
func traceConsume(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		ctx := msg.Context()
		handler := handlerName(ctx)
		md := msg.Metadata
		ctx, span := tracing.Tracer().Start(eventwire.TraceContext(ctx, msg), "handle "+handler,
			trace.WithSpanKind(trace.SpanKindConsumer))
		if span.IsRecording() { // no attributes to build when tracing is off or the trace unsampled
			span.SetAttributes(tracing.Handler.String(handler), tracing.MsgConsumer.String(handler),
				tracing.MsgDest.String(topicName(ctx)), tracing.MsgID.String(msg.UUID),
				tracing.MsgOp.String("process"), tracing.EventType.String(md.Get(eventwire.KeyEventType)),
				tracing.StreamID.String(md.Get(eventwire.KeyStreamID)), tracing.EventID.String(msg.UUID))
		}
		d := &delivery{}
		msg.SetContext(context.WithValue(ctx, deliveryKey{}, d))
		out, err := h(msg)
		if d.outcome == "" && err == nil {
			d.outcome = OutcomeOK
		}
		if d.outcome != "" {
			span.SetAttributes(tracing.Outcome.String(d.outcome))
		}
		span.SetAttributes(tracing.Attempts.Int(d.attempts))
		tracing.End(span, err)
		return out, err
	}
}

// traceOutcome sits just inside the poison queue middleware: it sees the
// error the poison queue decides on, which is swallowed (acked) once the
// message is parked.
func traceOutcome(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		d := deliveryOf(msg.Context())
		if d == nil {
			return out, err
		}
		span := trace.SpanFromContext(msg.Context())
		switch {
		case err == nil && d.duplicate:
			d.outcome = OutcomeDuplicate
		case err == nil && d.setAside:
			d.outcome = OutcomeSetAside
		case err == nil:
			d.outcome = OutcomeOK
		case IsPermanent(err):
			d.outcome = OutcomePoisoned
			var gaveUp *GaveUpError
			if errors.As(err, &gaveUp) {
				span.AddEvent("gave up", trace.WithAttributes(attribute.String("error", err.Error())))
			}
			span.AddEvent("poisoned", trace.WithAttributes(attribute.String("reason", err.Error()),
				attribute.String("poison.topic", PoisonTopic)))
			// The poison queue acks it: the delivery did not fail, but the
			// event was not handled.
			span.SetStatus(codes.Error, "poisoned: "+err.Error())
		default:
			d.outcome = OutcomeNacked
		}
		return out, err
	}
}

// traceAttempt sits inside the retry middleware: each call is one attempt.
func traceAttempt(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		d := deliveryOf(msg.Context())
		span := trace.SpanFromContext(msg.Context())
		if d != nil {
			d.attempts++
			if d.attempts > 1 {
				span.AddEvent("retry", trace.WithAttributes(attribute.Int("attempt", d.attempts)))
			}
		}
		out, err := h(msg)
		if err != nil {
			span.AddEvent("attempt failed", trace.WithAttributes(attribute.String("error", err.Error())))
		}
		return out, err
	}
}

// traceSetAside marks the delivery as set aside in the retry queue.
func traceSetAside(ctx context.Context, retryIn string, err error) {
	trace.SpanFromContext(ctx).AddEvent("set aside for a retry", trace.WithAttributes(
		attribute.String("retry_in", retryIn), attribute.String("error", err.Error())))
	if d := deliveryOf(ctx); d != nil {
		d.setAside = true
	}
}

// traceDuplicate marks the delivery as a duplicate the deduplication store
// skipped.
func traceDuplicate(ctx context.Context) {
	trace.SpanFromContext(ctx).AddEvent("duplicate skipped")
	if d := deliveryOf(ctx); d != nil {
		d.duplicate = true
	}
}
