package upcast_test

import (
	"testing"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/upcast"
)

// FuzzUpcastThenDecode is the event decoder as consumers run it, old event
// versions included: upcasting never panics, refuses only with
// apperr.Invalid, always ends at the newest version of a known type, and
// what it produces decodes or is refused as Invalid too.
func FuzzUpcastThenDecode(f *testing.F) {
	seeds := []struct{ typ, data string }{
		{order.EventPlacedV1, `{"order_id":"0193a1b2-0000-7000-8000-000000000001","customer_id":"c","currency":"EUR",` +
			`"items":[{"sku":"S","quantity":2,"unit_price":1250}],"shipping_address":{"name":"A","line1":"B","city":"C",` +
			`"postal_code":"1","country":"DE"},"payment_method":"tok_visa","total":2500,"placed_at":"2026-11-27T10:00:00Z"}`},
		{order.EventPlacedV1, `{"items":[{"sku":"S","quantity":"2","unit_price":1}]}`},
		{order.EventPlacedV1, `{"items":null}`},
		{order.EventPlaced, `{"items":[{"sku":"S","quantity":2,"unit_price":1250,"line_total":2500}]}`},
		{order.EventCancelled, `{"reason":"r","cancelled_at":"2026-11-27T10:00:00Z"}`},
		{"order.placed.v9", `{}`}, {"order.placed.v0", `{}`}, {"order.placed", `{}`}, {"order.placed.vX", `{}`},
		{order.EventPlacedV1, `not json`}, {"", ``},
	}
	for _, s := range seeds {
		f.Add(s.typ, []byte(s.data))
	}
	reg := upcast.Default()
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		latest, out, err := reg.Upcast(typ, data)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("Upcast(%q) error is not Invalid: %v", typ, err)
			}
			return
		}
		if want, ok := reg.Latest(latest); ok && want != latest {
			t.Fatalf("Upcast(%q) stopped at %s, latest is %s", typ, latest, want)
		}
		if _, err := order.DecodeEvent(latest, out); err != nil && !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("DecodeEvent(%q) after upcasting: error is not Invalid: %v", latest, err)
		}
	})
}
