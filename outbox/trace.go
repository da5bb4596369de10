package outbox

import (
	"context"

	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/tracing"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// batchSpans are the spans of one forwarded batch.
//
// A batch carries the events of many orders, each appended in a trace of
// its own, so the batch cannot be a child of them all: it is a span of its
// own trace ("outbox.forward_batch") with a link to each event's append.
// Each event then gets a "publish <topic>" span that IS a child of its
// append span, linked back to the batch, and the message goes out carrying
// that span's context, so the consumers' spans are children of the publish
// and one order's trace runs unbroken from its request through the
// forwarder to every handler.
type batchSpans struct {
	batch trace.Span
	each  []trace.Span
}

// startSpans starts the batch's spans and puts each publish span's trace
// context on its message. With tracing off they are no-ops and no message
// carries a trace context to begin with.
func (f *Forwarder) startSpans(ctx context.Context, rows int, out []broker.TopicMessage) batchSpans {
	if len(out) == 0 { // nothing published: no span for an idle poll
		return batchSpans{batch: trace.SpanFromContext(context.Background())}
	}
	var links []trace.Link
	parents := make([]context.Context, len(out))
	for i, m := range out {
		parents[i] = eventwire.TraceContext(context.WithoutCancel(ctx), m.Msg)
		if sc := trace.SpanContextFromContext(parents[i]); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{tracing.EventID.String(m.Msg.UUID)}})
		}
	}
	system := tracing.MsgSystem.String(f.cfg.Broker.Name)
	_, batch := tracing.Tracer().Start(ctx, "outbox.forward_batch",
		trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindProducer), trace.WithLinks(links...),
		trace.WithAttributes(system, tracing.MsgBatch.Int(len(out)), attribute.Int("orderflow.outbox.rows", rows),
			tracing.MsgConsumer.String(ConsumerGroup)))
	s := batchSpans{batch: batch, each: make([]trace.Span, len(out))}
	batchLink := trace.Link{SpanContext: batch.SpanContext()}
	for i, m := range out {
		sctx, span := tracing.Tracer().Start(parents[i], "publish "+m.Topic,
			trace.WithSpanKind(trace.SpanKindProducer), trace.WithLinks(batchLink))
		if span.IsRecording() {
			span.SetAttributes(system, tracing.MsgDest.String(m.Topic), tracing.MsgID.String(m.Msg.UUID),
				tracing.MsgOp.String("send"), tracing.EventType.String(m.Msg.Metadata.Get(eventwire.KeyEventType)),
				tracing.StreamID.String(m.Msg.Metadata.Get(eventwire.KeyStreamID)))
		}
		if span.SpanContext().IsValid() {
			eventwire.InjectTrace(sctx, m.Msg.Metadata)
		}
		s.each[i] = span
	}
	return s
}

// end ends the spans, with err (the publish's) on each.
func (s batchSpans) end(err error) {
	for _, span := range s.each {
		tracing.End(span, err)
	}
	tracing.End(s.batch, err)
}
