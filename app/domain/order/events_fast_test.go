package order

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// Every event as EncodeEvent writes it takes the fast path (unless a text
// needs an escape) and decodes as encoding/json decodes it: a rebuild
// decodes nothing the slow way.
func TestFastPathTakesWhatEncodeEventWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	texts := []string{"", "a", "DHL", "é 日本 🚚", "O'Brien", "\x7f"}
	text := func() string { return texts[rng.IntN(len(texts))] + fmt.Sprint(rng.IntN(1000)) }
	at := func() time.Time {
		t := time.Date(2026, 11, 27, 10, 0, 0, rng.IntN(2)*123456789, time.UTC)
		if rng.IntN(2) == 0 {
			t = t.In(time.FixedZone("", 3600))
		}
		return t
	}
	for i := range 500 {
		var items []Item
		for range rng.IntN(4) {
			items = append(items, Item{SKU: text(), Quantity: rng.Int64N(10), UnitPrice: rng.Int64() - rng.Int64(), LineTotal: rng.Int64N(1e9)})
		}
		if items == nil && i%2 == 0 {
			items = []Item{}
		}
		events := []Event{
			Placed{OrderID: text(), CustomerID: text(), Currency: "EUR", Items: items,
				ShippingAddress: Address{Name: text(), Line1: text(), Line2: texts[i%2], City: text(), PostalCode: text(), Country: "DE"},
				PaymentMethod:   text(), Total: rng.Int64() - rng.Int64(), PlacedAt: at()},
			Confirmed{OrderID: text(), ConfirmedAt: at()},
			Cancelled{OrderID: text(), Reason: text(), CancelledAt: at()},
			Shipped{OrderID: text(), Carrier: text(), TrackingNumber: text(), ShippedAt: at()},
			Delivered{OrderID: text(), DeliveredAt: at()},
		}
		for _, e := range events {
			data, err := EncodeEvent(e)
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := e.(Placed); ok && p.Items == nil {
				if _, ok := fastPlaced(data); ok {
					t.Fatalf("fast path took items null: %s", data)
				}
				continue
			}
			var fast Event
			var ok bool
			switch e.(type) {
			case Placed:
				fast, ok = fastPlaced(data)
			case Confirmed:
				fast, ok = fastConfirmed(data)
			case Cancelled:
				fast, ok = fastCancelled(data)
			case Shipped:
				fast, ok = fastShipped(data)
			case Delivered:
				fast, ok = fastDelivered(data)
			}
			if !ok {
				t.Fatalf("fast path gave up on %s", data)
			}
			want := reflect.New(reflect.TypeOf(e))
			if err := json.Unmarshal(data, want.Interface()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fast, want.Elem().Interface()) {
				t.Fatalf("fast path decoded %s as\n%#v\nencoding/json as\n%#v", data, fast, want.Elem().Interface())
			}
		}
	}
}

func BenchmarkDecodePlaced(b *testing.B) {
	data, err := EncodeEvent(Placed{OrderID: "0193a1b2-0000-7000-8000-000000000001", CustomerID: "c-1", Currency: "EUR",
		Items:           []Item{{SKU: "SKU-1", Quantity: 2, UnitPrice: 1250, LineTotal: 2500}},
		ShippingAddress: Address{Name: "N", Line1: "L", City: "C", PostalCode: "1", Country: "DE"},
		PaymentMethod:   "tok", Total: 2500, PlacedAt: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, ok := fastPlaced(data); !ok {
				b.Fatal("gave up")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var e Placed
			if err := json.Unmarshal(data, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
