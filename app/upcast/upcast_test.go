package upcast_test

import (
	"encoding/json"
	"testing"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/upcast"
)

func TestDefaultUpcastsPlacedV1ToV2(t *testing.T) {
	v1 := `{"order_id":"o-1","items":[{"sku":"A","quantity":3,"unit_price":1250},{"sku":"B","quantity":1,"unit_price":0}],"total":3750,"placed_at":"2026-06-01T09:15:00Z"}`
	typ, data, err := upcast.Default().Upcast(order.EventPlacedV1, []byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	if typ != order.EventPlaced {
		t.Fatalf("type %s, want %s", typ, order.EventPlaced)
	}
	e, err := order.DecodeEvent(typ, data)
	if err != nil {
		t.Fatal(err)
	}
	p := e.(order.Placed)
	if p.Items[0].LineTotal != 3750 || p.Items[1].LineTotal != 0 || p.Items[0].SKU != "A" || p.Total != 3750 {
		t.Errorf("upcast placed: %+v", p)
	}
}

func TestUpcast(t *testing.T) {
	r := upcast.NewRegistry().
		Current("thing.done.v1").
		Register("thing.made.v1", func(b []byte) ([]byte, error) { return append(b, '2'), nil }).
		Register("thing.made.v2", func(b []byte) ([]byte, error) { return append(b, '3'), nil })
	for _, tc := range []struct {
		in, wantType, wantData string
		wantErr                bool
	}{
		{in: "thing.made.v1", wantType: "thing.made.v3", wantData: "x23"},
		{in: "thing.made.v2", wantType: "thing.made.v3", wantData: "x3"},
		{in: "thing.made.v3", wantType: "thing.made.v3", wantData: "x"},
		{in: "thing.done.v1", wantType: "thing.done.v1", wantData: "x"},
		{in: "other.thing.v7", wantType: "other.thing.v7", wantData: "x"}, // not ours
		{in: "unversioned", wantType: "unversioned", wantData: "x"},
		{in: "thing.made.v4", wantErr: true},
		{in: "thing.done.v9", wantErr: true},
	} {
		typ, data, err := r.Upcast(tc.in, []byte("x"))
		switch {
		case tc.wantErr:
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("%s: err %v, want invalid", tc.in, err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.in, err)
		case typ != tc.wantType || string(data) != tc.wantData:
			t.Errorf("%s: got %s %q, want %s %q", tc.in, typ, data, tc.wantType, tc.wantData)
		}
	}
}

func TestFutureOrderVersionIsInvalid(t *testing.T) {
	_, _, err := upcast.Default().Upcast("order.placed.v9", []byte(`{}`))
	if apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("err %v, want invalid", err)
	}
}

func TestBrokenV1PayloadIsInvalid(t *testing.T) {
	for _, bad := range []string{`{`, `{"items":"no"}`, `{"items":[{"quantity":"2"}]}`} {
		if _, _, err := upcast.Default().Upcast(order.EventPlacedV1, []byte(bad)); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("%s: err %v, want invalid", bad, err)
		}
	}
}

// The step keeps fields it does not touch, including unknown ones.
func TestPlacedV1ToV2KeepsOtherFields(t *testing.T) {
	out, err := upcast.PlacedV1ToV2([]byte(`{"items":[{"sku":"A","quantity":2,"unit_price":5,"note":"gift"}],"extra":{"k":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	item := got["items"].([]any)[0].(map[string]any)
	if item["line_total"] != 10.0 || item["note"] != "gift" || got["extra"].(map[string]any)["k"] != 1.0 {
		t.Errorf("got %s", out)
	}
}
