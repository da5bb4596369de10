package projection_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// embedded runs the projection on the real embedded stores.
type embedded struct {
	events ports.EventStore
	orders ports.OrderSummaryStore
	repo   *repository.Orders
	proj   *projection.OrderSummary
}

func newEmbedded(t *testing.T) embedded {
	t.Helper()
	db := storetest.SQLiteDB(t)
	events, err := sqlite.NewEventStore(db, sqlite.EventStoreConfig{
		OutboxTopic: "outbox", EventTopic: func(t string) string { return t + ".events" }})
	if err != nil {
		t.Fatal(err)
	}
	orders := sqlite.Stores(db).OrderSummary
	return embedded{events: events, orders: orders,
		repo: repository.NewOrders(events, fixedClock{time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}),
		proj: projection.NewOrderSummary(orders, events)}
}

// placeShipped stores an order with four events and returns them as stored.
func (f embedded) placeShipped(t *testing.T) []ports.RecordedEvent {
	t.Helper()
	ctx := context.Background()
	id := uuid.NewString()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	o, err := order.Place(order.PlaceParams{OrderID: id, CustomerID: "c", Currency: "EUR",
		Items:           []order.Item{{SKU: "A", Quantity: 3, UnitPrice: 100}},
		ShippingAddress: order.Address{Name: "N", Line1: "L", City: "C", PostalCode: "P", Country: "DE"},
		PaymentMethod:   "tok_visa"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.repo.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	for _, step := range []func(*order.Order) error{
		func(o *order.Order) error { return o.Confirm(now) },
		func(o *order.Order) error { return o.Ship("DHL", "T-1", now) },
		func(o *order.Order) error { return o.Deliver(now) },
	} {
		if _, err := f.repo.Update(ctx, id, 0, step); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := f.repo.History(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func (f embedded) row(t *testing.T, id string) ports.OrderSummary {
	t.Helper()
	s, err := f.orders.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestProjectionAppliesEachEventOnceWhateverTheDelivery(t *testing.T) {
	cases := []struct {
		name  string
		order []int // indexes into the stored events, in delivery order
	}{
		{"in order", []int{0, 1, 2, 3}},
		{"every event twice", []int{0, 0, 1, 1, 2, 2, 3, 3}},
		{"redelivery of old events after the last", []int{0, 1, 2, 3, 1, 0}},
		{"a gap: the last event first", []int{3}},
		{"out of order", []int{1, 0, 3, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newEmbedded(t)
			stored := f.placeShipped(t)
			for _, i := range tc.order {
				if err := f.proj.Handle(context.Background(), stored[i]); err != nil {
					t.Fatalf("event %d: %v", i+1, err)
				}
			}
			got := f.row(t, stored[0].Stream.ID)
			if got.Version != 4 || got.Status != "delivered" || got.Carrier != "DHL" || got.Total != 300 || len(got.Items) != 1 {
				t.Fatalf("row after %v: %+v", tc.order, got)
			}
		})
	}
}

func TestProjectionRefusesUndecodableEventsAsPermanent(t *testing.T) {
	f := newEmbedded(t)
	stored := f.placeShipped(t)
	bad := stored[0]
	bad.Type = "order.exploded.v1"
	if err := f.proj.Handle(context.Background(), bad); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("want invalid, got %v", err)
	}
	if _, err := f.orders.Get(context.Background(), bad.Stream.ID); err == nil {
		t.Fatalf("a refused event wrote a row")
	}
	other := stored[0]
	other.Stream.Type = "inventory"
	if err := f.proj.Handle(context.Background(), other); err != nil {
		t.Fatalf("events of other aggregates are ignored, got %v", err)
	}
}
