package projection_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// storedEvent is one event to store at its stream's next version.
type storedEvent struct {
	stream  ports.Stream
	version int64
	event   ports.NewEvent
}

// interleaved returns n events of orders whose events are interleaved the
// way concurrent orders' are: window orders are open at once, each step
// takes the next event of one of them at random, and a finished order
// makes room for a new one. Within an order the events are in order. Most
// orders are placed, confirmed, shipped and delivered; some are cancelled
// when placed or once confirmed.
func interleaved(t testing.TB, n, window int, seed uint64) []storedEvent {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type open struct {
		id    string
		steps []order.Event
		next  int
	}
	planned := 0
	newOrder := func(i int) *open {
		id := uuid.Must(uuid.NewV7()).String()
		placed := order.Placed{OrderID: id, CustomerID: fmt.Sprintf("c-%d", i%500), Currency: "EUR",
			Items: []order.Item{{SKU: fmt.Sprintf("SKU-%d", i%97), Quantity: int64(1 + i%3), UnitPrice: 1250,
				LineTotal: int64(1+i%3) * 1250}},
			ShippingAddress: order.Address{Name: "N", Line1: "L", City: "C", PostalCode: "1", Country: "DE"},
			PaymentMethod:   "tok", Total: int64(1+i%3) * 1250}
		var steps []order.Event
		switch rng.IntN(10) {
		case 0:
			steps = []order.Event{placed, order.Cancelled{OrderID: id, Reason: "payment declined"}}
		case 1:
			steps = []order.Event{placed, order.Confirmed{OrderID: id}, order.Cancelled{OrderID: id, Reason: "customer"}}
		default:
			steps = []order.Event{placed, order.Confirmed{OrderID: id},
				order.Shipped{OrderID: id, Carrier: "DHL", TrackingNumber: fmt.Sprintf("T%d", i)}, order.Delivered{OrderID: id}}
		}
		steps = steps[:min(len(steps), n-planned)]
		planned += len(steps)
		return &open{id: id, steps: steps}
	}
	var active []*open
	orders := 0
	for len(active) < window && planned < n {
		active = append(active, newOrder(orders))
		orders++
	}
	out := make([]storedEvent, 0, n)
	for len(active) > 0 {
		i := rng.IntN(len(active))
		o := active[i]
		when := at.Add(time.Duration(len(out)) * time.Millisecond)
		var e order.Event
		switch e = o.steps[o.next]; ev := e.(type) {
		case order.Placed:
			ev.PlacedAt = when
			e = ev
		case order.Confirmed:
			ev.ConfirmedAt = when
			e = ev
		case order.Cancelled:
			ev.CancelledAt = when
			e = ev
		case order.Shipped:
			ev.ShippedAt = when
			e = ev
		case order.Delivered:
			ev.DeliveredAt = when
			e = ev
		}
		data, err := order.EncodeEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		o.next++
		out = append(out, storedEvent{stream: repository.Stream(o.id), version: int64(o.next),
			event: ports.NewEvent{Type: e.EventType(), Data: data,
				Metadata: ports.EventMetadata{EventID: uuid.Must(uuid.NewV7()).String(), OccurredAt: when}}})
		if o.next == len(o.steps) {
			if planned < n {
				active[i] = newOrder(orders)
				orders++
			} else {
				active[i] = active[len(active)-1]
				active = active[:len(active)-1]
			}
		}
	}
	return out
}

// appendInterleaved stores events through the event store, several orders
// per transaction (AppendMany), so that positions interleave the orders.
func appendInterleaved(t testing.TB, es ports.EventStore, events []storedEvent) {
	t.Helper()
	var parts []ports.StreamAppend
	in := map[ports.Stream]bool{}
	commit := func() {
		if len(parts) == 0 {
			return
		}
		if err := es.AppendMany(context.Background(), parts); err != nil {
			t.Fatal(err)
		}
		parts, in = nil, map[ports.Stream]bool{}
	}
	for _, e := range events {
		if in[e.stream] || len(parts) == 50 {
			commit()
		}
		in[e.stream] = true
		parts = append(parts, ports.StreamAppend{Stream: e.stream, ExpectedVersion: e.version - 1, Events: []ports.NewEvent{e.event}})
	}
	commit()
}

// orderIDs lists the orders of events, once each.
func orderIDs(events []storedEvent) []string {
	var ids []string
	seen := map[string]bool{}
	for _, e := range events {
		if !seen[e.stream.ID] {
			seen[e.stream.ID] = true
			ids = append(ids, e.stream.ID)
		}
	}
	return ids
}

// The fast rebuild, folding in memory with a working set far smaller than
// the orders open at once (so rows are dropped and read back), gives
// exactly the rows the live projector gives event by event, on orders
// whose events are interleaved; and it holds no more rows than the working
// set plus one batch.
func TestRebuildMatchesLiveProjectorOnInterleavedOrders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		events := interleaved(t, 1500, 60, 7)
		appendInterleaved(t, s.Events, events)
		live := projection.NewOrderSummary(s.Orders, s.Events)
		for _, e := range storetest.ReadAll(t, s.Events, len(events)) {
			if err := live.Handle(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
		ids := orderIDs(events)
		want := make(map[string]ports.OrderSummary, len(ids))
		for _, id := range ids {
			row, err := s.Orders.Get(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			want[id] = row
		}

		const batch, workingSet = 64, 20
		res, err := projection.OrderSummaryRebuild{Events: s.Events, Live: s.Orders, Shadow: s.Shadow,
			BatchSize: batch, WorkingSet: workingSet, FlushRows: 8}.Run(t.Context(), ports.Position{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Events != int64(len(events)) {
			t.Errorf("rebuilt from %d events, stored %d", res.Events, len(events))
		}
		if res.PeakRows > workingSet+batch || res.PeakRows <= workingSet {
			t.Errorf("peak of %d rows in memory, want more than the working set %d (this test evicts) and at most %d",
				res.PeakRows, workingSet, workingSet+batch)
		}
		if res.ReadBack == 0 {
			t.Error("no row was read back: the test does not exercise eviction")
		}
		for _, id := range ids {
			got, err := s.Orders.Get(t.Context(), id)
			if err != nil || !reflect.DeepEqual(got, want[id]) {
				t.Errorf("order %s rebuilt:\n got %+v (%v)\nwant %+v", id, got, err, want[id])
			}
		}
		page, err := s.Orders.List(t.Context(), ports.OrderFilter{Limit: len(ids) + 1})
		if err != nil || len(page.Items) != len(ids) {
			t.Errorf("listed %d rows after the rebuild (%v), want %d", len(page.Items), err, len(ids))
		}
	})
}
