package router_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/telemetry/telemetrytest"
	"github.com/orderflow/orderflow/router"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func recordSpans(t *testing.T) *tracetest.SpanRecorder { return telemetrytest.RecordSpans(t) }

func attr(s sdktrace.ReadOnlySpan, k attribute.Key) attribute.Value {
	for _, a := range s.Attributes() {
		if a.Key == k {
			return a.Value
		}
	}
	return attribute.Value{}
}

func hasEvent(s sdktrace.ReadOnlySpan, name string) bool {
	for _, e := range s.Events() {
		if e.Name == name {
			return true
		}
	}
	return false
}

// TestDeliverySpanContinuesTheEventsTrace runs the production chain of a
// route on the embedded broker. A message carrying the trace context of a
// span (as the forwarder publishes events) is handled in a "handle" span
// that is that span's child, and the handler's context holds it; the span
// records a retry, the poison queue and a duplicate the inbox skipped; a
// message without trace context starts a trace of its own.
func TestDeliverySpanContinuesTheEventsTrace(t *testing.T) {
	sr := recordSpans(t)
	rg := newRig(t)
	var deliveries atomic.Int64
	var mu sync.Mutex
	seen := map[string]trace.SpanContext{} // payload -> span in the handler's context
	var calls atomic.Int64
	rg.run(t, rg.chain(t, &deliveries), func(msg *message.Message) error {
		p := string(msg.Payload)
		mu.Lock()
		seen[p] = trace.SpanContextFromContext(msg.Context())
		mu.Unlock()
		switch {
		case p == "retry" && calls.Add(1) == 1:
			return apperr.New(apperr.Unavailable, "store down")
		case p == "bad":
			return apperr.New(apperr.Invalid, "undecodable payload")
		}
		return nil
	})

	ctx, parent := otel.Tracer("test").Start(context.Background(), "eventstore.append")
	parent.End()
	publish := func(payload, id string, traced bool) {
		msg := message.NewMessage(id, []byte(payload))
		if traced {
			eventwire.InjectTrace(ctx, msg.Metadata)
		}
		if err := rg.broker.Publisher.Publish(testTopic, msg); err != nil {
			t.Fatal(err)
		}
	}
	dup := uuid.NewString()
	publish("retry", uuid.NewString(), true)
	publish("bad", uuid.NewString(), true)
	publish("dup", dup, true)
	publish("dup", dup, true)
	publish("untraced", uuid.NewString(), false)

	handles := func() []sdktrace.ReadOnlySpan {
		var out []sdktrace.ReadOnlySpan
		for _, s := range sr.Ended() {
			if s.Name() == "handle "+testHandler {
				out = append(out, s)
			}
		}
		return out
	}
	waitUntil(t, "five deliveries' spans", func() bool { return len(handles()) == 5 })

	byOutcome := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range handles() {
		o := attr(s, "orderflow.outcome").AsString()
		byOutcome[o] = append(byOutcome[o], s)
		if s.SpanKind() != trace.SpanKindConsumer {
			t.Fatalf("span %s is of kind %v, want consumer", s.Name(), s.SpanKind())
		}
	}
	if len(byOutcome[router.OutcomeOK]) != 3 || len(byOutcome[router.OutcomePoisoned]) != 1 || len(byOutcome[router.OutcomeDuplicate]) != 1 {
		t.Fatalf("outcomes %v: want 3 ok (retry, dup, untraced), 1 poisoned, 1 duplicate_skipped", keys(byOutcome))
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range byOutcome[router.OutcomeOK] {
		payload := ""
		for p, sc := range seen {
			if sc.SpanID() == s.SpanContext().SpanID() {
				payload = p
			}
		}
		switch payload {
		case "retry":
			if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
				t.Fatalf("retry's span has parent %v, want the event's span %v", s.Parent(), parent.SpanContext())
			}
			if attr(s, "orderflow.attempts").AsInt64() != 2 || !hasEvent(s, "retry") || !hasEvent(s, "attempt failed") {
				t.Fatalf("retry's span: attempts %v, events %v; want 2 attempts, a retry and a failed attempt",
					attr(s, "orderflow.attempts"), s.Events())
			}
		case "dup":
			if s.Parent().SpanID() != parent.SpanContext().SpanID() {
				t.Fatalf("dup's span has parent %v", s.Parent())
			}
		case "untraced":
			if s.Parent().IsValid() || s.SpanContext().TraceID() == parent.SpanContext().TraceID() {
				t.Fatalf("a message without trace context got parent %v", s.Parent())
			}
		default:
			t.Fatalf("span %v is not the one any handler call saw", s.SpanContext())
		}
	}
	bad := byOutcome[router.OutcomePoisoned][0]
	if !hasEvent(bad, "poisoned") || bad.Status().Code != codes.Error || bad.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Fatalf("poisoned span: events %v, status %v, parent %v", bad.Events(), bad.Status(), bad.Parent())
	}
	if d := byOutcome[router.OutcomeDuplicate][0]; !hasEvent(d, "duplicate skipped") {
		t.Fatalf("duplicate's span has events %v", d.Events())
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A message set aside in the retry queue: its delivery's span says so, and
// the retry queue's later delivery continues the same trace (the message
// keeps its metadata), with the outcome ok.
func TestSetAsideDeliveryKeepsItsTrace(t *testing.T) {
	sr := recordSpans(t)
	rg := newRig(t)
	rg.withRetryQueue(10 * time.Millisecond)
	var deliveries, calls atomic.Int64
	rg.route(t, &deliveries, func(*message.Message) error {
		if calls.Add(1) <= 4 { // the broker's delivery: 1 + 3 retries
			return apperr.New(apperr.Unavailable, "provider down")
		}
		return nil
	})
	ctx, parent := otel.Tracer("test").Start(context.Background(), "publish")
	parent.End()
	msg := message.NewMessage(uuid.NewString(), []byte("flaky"))
	eventwire.InjectTrace(ctx, msg.Metadata)
	if err := rg.broker.Publisher.Publish(testTopic, msg); err != nil {
		t.Fatal(err)
	}
	var handles []sdktrace.ReadOnlySpan
	waitUntil(t, "two deliveries' spans", func() bool {
		handles = handles[:0]
		for _, s := range sr.Ended() {
			if s.Name() == "handle "+testHandler {
				handles = append(handles, s)
			}
		}
		return len(handles) == 2
	})
	first, second := handles[0], handles[1]
	if attr(first, "orderflow.outcome").AsString() != router.OutcomeSetAside || !hasEvent(first, "set aside for a retry") ||
		attr(second, "orderflow.outcome").AsString() != router.OutcomeOK {
		t.Fatalf("outcomes %v then %v; want set_aside then ok", attr(first, "orderflow.outcome"), attr(second, "orderflow.outcome"))
	}
	for _, s := range handles {
		if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Fatalf("delivery span with parent %v, want the message's %v", s.Parent(), parent.SpanContext())
		}
	}
}
