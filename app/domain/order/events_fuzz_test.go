package order_test

import (
	"reflect"
	"testing"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
)

// FuzzDecodeEvent: the event decoder never panics, refuses only with
// apperr.Invalid (so the router parks such messages), and what it accepts
// encodes and decodes back to the same event.
func FuzzDecodeEvent(f *testing.F) {
	seeds := []struct{ typ, data string }{
		{order.EventPlaced, `{"order_id":"0193a1b2-0000-7000-8000-000000000001","customer_id":"c","currency":"EUR",` +
			`"items":[{"sku":"S","quantity":2,"unit_price":1250}],"total":2500,"placed_at":"2026-11-27T10:00:00Z"}`},
		{order.EventConfirmed, `{"confirmed_at":"2026-11-27T10:00:00Z"}`},
		{order.EventCancelled, `{"reason":"r","cancelled_at":"2026-11-27T10:00:00Z"}`},
		{order.EventShipped, `{"carrier":"DHL","tracking_number":"1","shipped_at":"2026-11-27T10:00:00Z"}`},
		{order.EventDelivered, `{"delivered_at":"2026-11-27T10:00:00Z"}`},
		{"order.placed.v0", `{}`}, {"order.exploded.v1", `{}`}, {order.EventPlaced, `not json`},
		{order.EventPlaced, `{"items":"x"}`}, {order.EventPlaced, `null`}, {"", ``},
	}
	for _, s := range seeds {
		f.Add(s.typ, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		e, err := order.DecodeEvent(typ, data)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("DecodeEvent(%q) error is not Invalid: %v", typ, err)
			}
			return
		}
		enc, err := order.EncodeEvent(e)
		if err != nil {
			t.Fatalf("accepted event does not encode: %v", err)
		}
		again, err := order.DecodeEvent(typ, enc)
		if err != nil || !reflect.DeepEqual(e, again) {
			t.Fatalf("round trip changed the event: %#v -> %#v (%v)", e, again, err)
		}
	})
}
