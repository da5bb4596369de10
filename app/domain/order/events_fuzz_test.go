package order_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
)

// decodeJSON decodes data as a typ event with encoding/json alone: what
// DecodeEvent gives, its fast path or not.
func decodeJSON(typ string, data []byte) (order.Event, error) {
	switch typ {
	case order.EventPlaced:
		var e order.Placed
		err := json.Unmarshal(data, &e)
		return e, err
	case order.EventConfirmed:
		var e order.Confirmed
		err := json.Unmarshal(data, &e)
		return e, err
	case order.EventCancelled:
		var e order.Cancelled
		err := json.Unmarshal(data, &e)
		return e, err
	case order.EventShipped:
		var e order.Shipped
		err := json.Unmarshal(data, &e)
		return e, err
	case order.EventDelivered:
		var e order.Delivered
		err := json.Unmarshal(data, &e)
		return e, err
	}
	return nil, errors.New("unknown type")
}

// FuzzDecodeEvent: the event decoder never panics, refuses only with
// apperr.Invalid (so the router parks such messages), accepts and refuses
// exactly what encoding/json does and decodes it the same (its fast path
// for json.Marshal's form included), and what it accepts encodes and
// decodes back to the same event.
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
		// The fast path's edges: where it must give up, or agree.
		{order.EventPlaced, `{"order_id":"a","customer_id":"c","currency":"EUR","items":[{"sku":"S","quantity":2,` +
			`"unit_price":1250,"line_total":2500}],"shipping_address":{"name":"N","line1":"L","city":"C","postal_code":"1",` +
			`"country":"DE"},"payment_method":"tok","total":2500,"placed_at":"2026-11-27T10:00:00Z"}`},
		{order.EventPlaced, `{"items":[],"total":-0}`}, {order.EventPlaced, `{"items":null}`},
		{order.EventPlaced, `{"total":1.0}`}, {order.EventPlaced, `{"total":1e3}`}, {order.EventPlaced, `{"total":01}`},
		{order.EventPlaced, `{"total":9223372036854775808}`}, {order.EventPlaced, `{"total":-9223372036854775808}`},
		{order.EventPlaced, `{"Total":5}`}, {order.EventPlaced, `{"total":5,"total":6}`}, {order.EventPlaced, `{"x":1}`},
		{order.EventPlaced, `{"items":[{"sku":"a","sku":"b"}]}`}, {order.EventPlaced, `{"items":[{}],"items":[{"quantity":1}]}`},
		{order.EventPlaced, `{"shipping_address":{"line2":"é 日本"},"currency":"\u00e9"}`},
		{order.EventPlaced, "{\"currency\":\"\xff\"}"}, {order.EventPlaced, "{\"currency\":\"\x7f\u2028\"}"},
		{order.EventPlaced, `{"order_id":"a"} `}, {order.EventPlaced, ` {"order_id":"a"}`}, {order.EventPlaced, `{"order_id" : "a"}`},
		{order.EventConfirmed, `{"order_id":"a","confirmed_at":"2026-11-27T10:00:00.123456789+01:00"}`},
		{order.EventConfirmed, `{"confirmed_at":"2026-11-27t10:00:00z"}`}, {order.EventConfirmed, `{"confirmed_at":"2026-11-27T10:00:00"}`},
		{order.EventConfirmed, `{"confirmed_at":null}`}, {order.EventConfirmed, `{"confirmed_at":"2026-11-27T10:00:00Z","x":[1,{"y":null}]}`},
		{order.EventCancelled, `{"order_id":"a","reason":"customer \"changed\" mind","cancelled_at":"2026-11-27T10:00:00Z"}`},
		{order.EventShipped, `{"order_id":"a","carrier":"DHL","tracking_number":"T1","shipped_at":"2026-11-27T10:00:00Z"}`},
		{order.EventDelivered, `{"order_id":"a","delivered_at":"2026-11-27T10:00:00Z"}`},
	}
	for _, s := range seeds {
		f.Add(s.typ, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		e, err := order.DecodeEvent(typ, data)
		if want, wantErr := decodeJSON(typ, data); (err == nil) != (wantErr == nil) || (err == nil && !reflect.DeepEqual(e, want)) {
			t.Fatalf("DecodeEvent(%q, %q) = %#v, %v; encoding/json decodes %#v, %v", typ, data, e, err, want, wantErr)
		}
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
