package inventory_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/inventory"
)

var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

const sku = "SKU-1"

func given(events ...inventory.Event) *inventory.Stock { return inventory.FromHistory(sku, events) }

func set(n int64) inventory.Event { return inventory.StockSet{SKU: sku, OnHand: n, SetAt: now} }

func reserved(order string, q int64) inventory.Event {
	return inventory.Reserved{SKU: sku, OrderID: order, Quantity: q, ReservedAt: now}
}

func thenEvents(t *testing.T, s *inventory.Stock, want ...inventory.Event) {
	t.Helper()
	got := s.Changes()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events:\n got %#v\nwant %#v", got, want)
	}
}

func thenLevels(t *testing.T, s *inventory.Stock, onHand, res, avail int64) {
	t.Helper()
	if s.OnHand() != onHand || s.Reserved() != res || s.Available() != avail {
		t.Fatalf("on_hand/reserved/available = %d/%d/%d, want %d/%d/%d",
			s.OnHand(), s.Reserved(), s.Available(), onHand, res, avail)
	}
}

// levels is a stock's on-hand, reserved and available units.
type levels struct{ onHand, reserved, available int64 }

func TestStockGivenWhenThen(t *testing.T) {
	released := inventory.Released{SKU: sku, OrderID: "o1", Quantity: 2, ReleasedAt: now}
	cases := []struct {
		name    string
		given   []inventory.Event
		when    func(*inventory.Stock) error
		errCode apperr.Code       // "" when the command must succeed
		then    []inventory.Event // the events recorded
		levels  *levels           // nil: not checked
	}{
		{name: "reserve holds units", given: []inventory.Event{set(10)},
			when: func(s *inventory.Stock) error { return s.Reserve("o1", 3, now) },
			then: []inventory.Event{reserved("o1", 3)}, levels: &levels{10, 3, 7}},
		{name: "reserve twice for same order is a no-op", given: []inventory.Event{set(10), reserved("o1", 3)},
			when:   func(s *inventory.Stock) error { return s.Reserve("o1", 3, now) },
			levels: &levels{10, 3, 7}},
		{name: "reserve more than available conflicts and records nothing", given: []inventory.Event{set(5), reserved("o1", 4)},
			when:    func(s *inventory.Stock) error { return s.Reserve("o2", 2, now) },
			errCode: apperr.Conflict, levels: &levels{5, 4, 1}},
		{name: "reserve after release is a no-op", given: []inventory.Event{set(5), reserved("o1", 2), released},
			when:   func(s *inventory.Stock) error { return s.Reserve("o1", 2, now) },
			levels: &levels{5, 0, 5}},
		{name: "release gives back and is idempotent", given: []inventory.Event{set(5), reserved("o1", 2)},
			when: func(s *inventory.Stock) error { s.Release("o1", now); s.Release("o1", now); return nil },
			then: []inventory.Event{released}, levels: &levels{5, 0, 5}},
		{name: "commit decrements on hand", given: []inventory.Event{set(5), reserved("o1", 2)},
			when:   func(s *inventory.Stock) error { s.Commit("o1", now); s.Commit("o1", now); return nil },
			then:   []inventory.Event{inventory.Committed{SKU: sku, OrderID: "o1", Quantity: 2, CommittedAt: now}},
			levels: &levels{3, 0, 3}},
		{name: "release without reservation is a no-op", given: []inventory.Event{set(5)},
			when: func(s *inventory.Stock) error { s.Release("o1", now); s.Commit("o1", now); return nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := given(c.given...)
			err := c.when(s)
			if c.errCode != "" {
				if !apperr.Is(err, c.errCode) {
					t.Fatalf("err = %v, want %s", err, c.errCode)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			thenEvents(t, s, c.then...)
			if c.levels != nil {
				thenLevels(t, s, c.levels.onHand, c.levels.reserved, c.levels.available)
			}
		})
	}
}

func TestSetOnHandBelowReservedConflicts(t *testing.T) {
	s := given(set(5), reserved("o1", 4))
	if err := s.SetOnHand(3, now); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("err = %v, want conflict", err)
	}
	if err := s.SetOnHand(-1, now); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("err = %v, want invalid", err)
	}
	if err := s.SetOnHand(4, now); err != nil {
		t.Fatal(err)
	}
	thenEvents(t, s, set(4))
	thenLevels(t, s, 4, 4, 0)
}

func TestReserveOrderAllOrNothing(t *testing.T) {
	stocks := map[string]*inventory.Stock{
		"A": inventory.FromHistory("A", []inventory.Event{inventory.StockSet{SKU: "A", OnHand: 5}}),
		"B": inventory.FromHistory("B", []inventory.Event{inventory.StockSet{SKU: "B", OnHand: 1}}),
		"C": inventory.New("C"),
	}
	lines := []inventory.Line{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}, {SKU: "B", Quantity: 1}, {SKU: "C", Quantity: 1}}
	short := inventory.ReserveOrder(stocks, "o1", lines, now)
	if !reflect.DeepEqual(short, []string{"B", "C"}) {
		t.Fatalf("short = %v, want [B C]", short)
	}
	if len(stocks["A"].Changes()) != 0 || stocks["A"].Reserved() != 0 {
		t.Fatalf("A reserved despite a short line: %#v", stocks["A"].Changes())
	}
	for _, s := range []string{"B", "C"} {
		ch := stocks[s].Changes()
		f, ok := ch[0].(inventory.ReservationFailed)
		if len(ch) != 1 || !ok || !reflect.DeepEqual(f.ShortSKUs, []string{"B", "C"}) {
			t.Fatalf("%s: %#v, want one reservation_failed naming B and C", s, ch)
		}
	}
}

func TestReserveOrderReservesEveryLine(t *testing.T) {
	stocks := map[string]*inventory.Stock{
		"A": inventory.FromHistory("A", []inventory.Event{inventory.StockSet{SKU: "A", OnHand: 5}}),
		"B": inventory.FromHistory("B", []inventory.Event{inventory.StockSet{SKU: "B", OnHand: 2}}),
	}
	lines := []inventory.Line{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}, {SKU: "B", Quantity: 1}}
	if short := inventory.ReserveOrder(stocks, "o1", lines, now); short != nil {
		t.Fatalf("short = %v", short)
	}
	if stocks["A"].ReservedFor("o1") != 2 || stocks["B"].ReservedFor("o1") != 2 || stocks["B"].Available() != 0 {
		t.Fatalf("A %d B %d", stocks["A"].ReservedFor("o1"), stocks["B"].ReservedFor("o1"))
	}
}

func TestEventsRoundTrip(t *testing.T) {
	for _, e := range []inventory.Event{set(3), reserved("o", 1),
		inventory.ReservationFailed{SKU: sku, OrderID: "o", Requested: 2, ShortSKUs: []string{sku}, FailedAt: now},
		inventory.Released{SKU: sku, OrderID: "o", Quantity: 1, ReleasedAt: now},
		inventory.Committed{SKU: sku, OrderID: "o", Quantity: 1, CommittedAt: now}} {
		data, err := inventory.EncodeEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := inventory.DecodeEvent(e.EventType(), data)
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("%s: got %#v, %v", e.EventType(), got, err)
		}
	}
	if _, err := inventory.DecodeEvent("inventory.unknown.v1", []byte(`{}`)); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("unknown type: %v", err)
	}
}

// A redelivered reservation of an order that failed fails again, even once
// stock is back: the first answer stands.
func TestReserveAfterFailureStaysShort(t *testing.T) {
	failed := inventory.ReservationFailed{SKU: sku, OrderID: "o1", Requested: 2, ShortSKUs: []string{sku}, FailedAt: now}
	s := given(set(1), failed, set(10))
	if err := s.Reserve("o1", 2, now); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("err = %v, want conflict", err)
	}
	stocks := map[string]*inventory.Stock{sku: s}
	if short := inventory.ReserveOrder(stocks, "o1", []inventory.Line{{SKU: sku, Quantity: 2}}, now); !reflect.DeepEqual(short, []string{sku}) {
		t.Fatalf("short = %v, want [%s]", short, sku)
	}
	thenEvents(t, s)
	thenLevels(t, s, 10, 0, 10)
}

func TestValidateSKU(t *testing.T) {
	for _, tc := range []struct {
		sku  string
		fine bool
	}{
		{"SKU-1", true},
		{"Tee shirt, größe M", true},
		{"", false},
		{" ", false},
		{"a/b", false},
		{"SKU\x00", false},
		{"SKU\x1f", false},
		{"SKU\x7f", false},
		{"SKU\xff", false},
	} {
		err := inventory.ValidateSKU(tc.sku)
		if (err == nil) != tc.fine || err != nil && apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("ValidateSKU(%q) = %v, want fine %v", tc.sku, err, tc.fine)
		}
	}
}
