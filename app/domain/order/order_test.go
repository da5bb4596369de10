package order_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
)

var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func validParams() order.PlaceParams {
	return order.PlaceParams{
		OrderID:    "0193a1b2-0000-7000-8000-000000000001",
		CustomerID: "cust-1",
		Currency:   "EUR",
		Items: []order.Item{
			{SKU: "SKU-1", Quantity: 2, UnitPrice: 1250},
			{SKU: "SKU-2", Quantity: 1, UnitPrice: 999},
		},
		ShippingAddress: order.Address{Name: "Ada", Line1: "Main St 1", City: "Berlin", PostalCode: "10115", Country: "DE"},
		PaymentMethod:   "tok_visa",
	}
}

func placed() order.Placed {
	p := validParams()
	p.Items[0].LineTotal, p.Items[1].LineTotal = 2500, 999
	return order.Placed{OrderID: p.OrderID, CustomerID: p.CustomerID, Currency: p.Currency, Items: p.Items,
		ShippingAddress: p.ShippingAddress, PaymentMethod: p.PaymentMethod, Total: 3499, PlacedAt: now}
}

func TestPlaceRecordsPlacedWithComputedTotal(t *testing.T) {
	o, err := order.Place(validParams(), now)
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	changes := o.Changes()
	if len(changes) != 1 {
		t.Fatalf("want 1 event, got %d", len(changes))
	}
	got, ok := changes[0].(order.Placed)
	if !ok || got.Total != 3499 || got.EventType() != order.EventPlaced {
		t.Fatalf("want order.placed.v2 with total 3499, got %#v", changes[0])
	}
	if got.Items[0].LineTotal != 2500 || got.Items[1].LineTotal != 999 {
		t.Fatalf("line totals %d and %d, want 2500 and 999", got.Items[0].LineTotal, got.Items[1].LineTotal)
	}
	if o.Status() != order.StatusPlaced || o.Version() != 1 || o.OriginalVersion() != 0 {
		t.Fatalf("status %s version %d original %d", o.Status(), o.Version(), o.OriginalVersion())
	}
}

func TestPlaceRejectsInvalidInputNamingEachField(t *testing.T) {
	tooMany := make([]order.Item, order.MaxItems+1)
	for i := range tooMany {
		tooMany[i] = order.Item{SKU: "S", Quantity: 1, UnitPrice: 1}
	}
	cases := []struct {
		name   string
		mutate func(*order.PlaceParams)
		fields []string
	}{
		{"no items", func(p *order.PlaceParams) { p.Items = nil }, []string{"items"}},
		{"too many items", func(p *order.PlaceParams) { p.Items = tooMany }, []string{"items"}},
		{"zero quantity", func(p *order.PlaceParams) { p.Items[0].Quantity = 0 }, []string{"items[0].quantity"}},
		{"negative price", func(p *order.PlaceParams) { p.Items[1].UnitPrice = -1 }, []string{"items[1].unit_price"}},
		{"empty sku", func(p *order.PlaceParams) { p.Items[0].SKU = " " }, []string{"items[0].sku"}},
		{"unknown currency", func(p *order.PlaceParams) { p.Currency = "XYZ" }, []string{"currency"}},
		{"lowercase currency", func(p *order.PlaceParams) { p.Currency = "eur" }, []string{"currency"}},
		{"bad country", func(p *order.PlaceParams) { p.ShippingAddress.Country = "Germany" }, []string{"shipping_address.country"}},
		{"no customer", func(p *order.PlaceParams) { p.CustomerID = "" }, []string{"customer_id"}},
		{"no payment method", func(p *order.PlaceParams) { p.PaymentMethod = "" }, []string{"payment_method"}},
		{"NUL in customer", func(p *order.PlaceParams) { p.CustomerID = "cu\x00st" }, []string{"customer_id"}},
		{"control in sku", func(p *order.PlaceParams) { p.Items[1].SKU = "SKU\x1f" }, []string{"items[1].sku"}},
		{"DEL in city", func(p *order.PlaceParams) { p.ShippingAddress.City = "Ber\x7flin" }, []string{"shipping_address.city"}},
		{"newline in line2", func(p *order.PlaceParams) { p.ShippingAddress.Line2 = "a\nb" }, []string{"shipping_address.line2"}},
		{"invalid UTF-8 in name", func(p *order.PlaceParams) { p.ShippingAddress.Name = "A\xff" }, []string{"shipping_address.name"}},
		{"control in every text field", func(p *order.PlaceParams) {
			p.ShippingAddress = order.Address{Name: "\x00", Line1: "\x01", Line2: "\x02", City: "\x03", PostalCode: "\x04", Country: "DE"}
			p.PaymentMethod = "tok\x00"
		}, []string{"shipping_address.name", "shipping_address.line1", "shipping_address.line2", "shipping_address.city",
			"shipping_address.postal_code", "payment_method"}},
		{"several at once", func(p *order.PlaceParams) {
			p.ShippingAddress = order.Address{}
			p.Currency = ""
		}, []string{"currency", "shipping_address.name", "shipping_address.line1", "shipping_address.city",
			"shipping_address.postal_code", "shipping_address.country"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validParams()
			p.Items = append([]order.Item(nil), p.Items...)
			tc.mutate(&p)
			_, err := order.Place(p, now)
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid {
				t.Fatalf("want invalid error, got %v", err)
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("fields: want %v, got %v", tc.fields, got)
			}
		})
	}
}

// given events, when a command runs, then these events or this error.
func TestTransitions(t *testing.T) {
	confirmed := order.Confirmed{OrderID: placed().OrderID, ConfirmedAt: now}
	shipped := order.Shipped{OrderID: placed().OrderID, Carrier: "DHL", TrackingNumber: "T1", ShippedAt: now}
	delivered := order.Delivered{OrderID: placed().OrderID, DeliveredAt: now}
	cancelled := order.Cancelled{OrderID: placed().OrderID, Reason: "changed mind", CancelledAt: now}

	confirm := func(o *order.Order) error { return o.Confirm(now) }
	cancel := func(o *order.Order) error { return o.Cancel("changed mind", now) }
	ship := func(o *order.Order) error { return o.Ship("DHL", "T1", now) }
	deliver := func(o *order.Order) error { return o.Deliver(now) }

	cases := []struct {
		name    string
		given   []order.Event
		when    func(*order.Order) error
		then    order.Event
		errCode apperr.Code
	}{
		{"confirm placed", []order.Event{placed()}, confirm, confirmed, ""},
		{"cancel placed", []order.Event{placed()}, cancel, cancelled, ""},
		{"cancel confirmed", []order.Event{placed(), confirmed}, cancel, cancelled, ""},
		{"ship confirmed", []order.Event{placed(), confirmed}, ship, shipped, ""},
		{"deliver shipped", []order.Event{placed(), confirmed, shipped}, deliver, delivered, ""},

		{"confirm unknown", nil, confirm, nil, apperr.NotFound},
		{"confirm twice", []order.Event{placed(), confirmed}, confirm, nil, apperr.Conflict},
		{"ship placed", []order.Event{placed()}, ship, nil, apperr.Conflict},
		{"deliver confirmed", []order.Event{placed(), confirmed}, deliver, nil, apperr.Conflict},
		{"cancel shipped", []order.Event{placed(), confirmed, shipped}, cancel, nil, apperr.Conflict},
		{"cancel delivered", []order.Event{placed(), confirmed, shipped, delivered}, cancel, nil, apperr.Conflict},
		{"cancel cancelled", []order.Event{placed(), cancelled}, cancel, nil, apperr.Conflict},
		{"confirm cancelled", []order.Event{placed(), cancelled}, confirm, nil, apperr.Conflict},
		{"ship cancelled", []order.Event{placed(), cancelled}, ship, nil, apperr.Conflict},
		{"cancel without reason", []order.Event{placed()}, func(o *order.Order) error { return o.Cancel("", now) }, nil, apperr.Invalid},
		{"ship without carrier", []order.Event{placed(), confirmed}, func(o *order.Order) error { return o.Ship("", "T1", now) }, nil, apperr.Invalid},
		{"cancel with NUL in reason", []order.Event{placed()}, func(o *order.Order) error { return o.Cancel("why\x00", now) }, nil, apperr.Invalid},
		{"ship with control in carrier", []order.Event{placed(), confirmed}, func(o *order.Order) error { return o.Ship("D\x1bHL", "T1", now) }, nil, apperr.Invalid},
		{"ship with invalid UTF-8 tracking", []order.Event{placed(), confirmed}, func(o *order.Order) error { return o.Ship("DHL", "T\xc3", now) }, nil, apperr.Invalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := order.FromHistory(tc.given)
			before := o.Version()
			err := tc.when(o)
			if tc.errCode != "" {
				if apperr.CodeOf(err) != tc.errCode {
					t.Fatalf("want %s error, got %v", tc.errCode, err)
				}
				if len(o.Changes()) != 0 || o.Version() != before {
					t.Fatalf("a refused command recorded %v", o.Changes())
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			changes := o.Changes()
			if len(changes) != 1 || changes[0] != tc.then {
				t.Fatalf("want %#v, got %#v", tc.then, changes)
			}
			if o.OriginalVersion() != before || o.Version() != before+1 {
				t.Fatalf("versions: original %d (want %d), now %d", o.OriginalVersion(), before, o.Version())
			}
		})
	}
}

func TestIllegalTransitionMessageIsClear(t *testing.T) {
	o := order.FromHistory([]order.Event{placed()})
	err := o.Ship("DHL", "T1", now)
	want := "cannot ship an order that is placed: only an order that is confirmed can be shipped"
	if e, _ := apperr.As(err); e == nil || e.Message != want {
		t.Fatalf("want %q, got %v", want, err)
	}
}

func TestEventsRoundTripThroughTheirStoredForm(t *testing.T) {
	for _, e := range []order.Event{placed(),
		order.Confirmed{OrderID: "o", ConfirmedAt: now},
		order.Cancelled{OrderID: "o", Reason: "r", CancelledAt: now},
		order.Shipped{OrderID: "o", Carrier: "c", TrackingNumber: "t", ShippedAt: now},
		order.Delivered{OrderID: "o", DeliveredAt: now},
	} {
		data, err := order.EncodeEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := order.DecodeEvent(e.EventType(), data)
		if err != nil {
			t.Fatalf("%s: %v", e.EventType(), err)
		}
		o1, o2 := order.FromHistory([]order.Event{placed(), e}), order.FromHistory([]order.Event{placed(), back})
		if o1.Status() != o2.Status() || o1.UpdatedAt() != o2.UpdatedAt() || o1.Total() != o2.Total() {
			t.Fatalf("%s did not round-trip", e.EventType())
		}
	}
	if _, err := order.DecodeEvent("order.exploded.v1", []byte(`{}`)); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("unknown type: want invalid, got %v", err)
	}
	if _, err := order.DecodeEvent(order.EventPlaced, []byte(`{`)); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("bad json: want invalid, got %v", err)
	}
}
