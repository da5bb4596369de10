package eventhandler_test

import (
	"context"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/handlers/eventhandler"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/ports"
)

type recorder struct{ got []ports.RecordedEvent }

func (r *recorder) Handle(_ context.Context, e ports.RecordedEvent) error {
	r.got = append(r.got, e)
	return nil
}

func wireEvent(eventType, data string) ports.RecordedEvent {
	return ports.RecordedEvent{
		Stream:  ports.Stream{Type: order.AggregateType, ID: "0193a1b2-0000-7000-8000-00000000a001"},
		Version: 1, Position: ports.Position{Commit: 1, Prepare: 1}, Type: eventType, Data: []byte(data),
		Metadata:   ports.EventMetadata{EventID: "0193a1b2-0000-7000-8000-0000000e0001", OccurredAt: time.Now()},
		RecordedAt: time.Now(),
	}
}

// A v1 message from an outbox backlog written before the upgrade reaches the
// handler as v2.
func TestEventsUpcastsOldMessages(t *testing.T) {
	rec := &recorder{}
	msg := eventwire.ToMessage(wireEvent(order.EventPlacedV1, `{"items":[{"sku":"A","quantity":2,"unit_price":7}]}`))
	if err := eventhandler.Events(rec)(msg); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 1 || rec.got[0].Type != order.EventPlaced {
		t.Fatalf("handler got %+v", rec.got)
	}
	e, err := order.DecodeEvent(rec.got[0].Type, rec.got[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if e.(order.Placed).Items[0].LineTotal != 14 {
		t.Errorf("line total %d, want 14", e.(order.Placed).Items[0].LineTotal)
	}
}

func TestEventsRejectsFutureVersions(t *testing.T) {
	rec := &recorder{}
	err := eventhandler.Events(rec)(eventwire.ToMessage(wireEvent("order.placed.v9", `{}`)))
	if apperr.CodeOf(err) != apperr.Invalid || len(rec.got) != 0 {
		t.Fatalf("err %v, handler got %d events; want invalid and none", err, len(rec.got))
	}
}
