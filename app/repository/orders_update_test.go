package repository_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// UpdateFrom appends to the order it is given when the stream is still
// there; when another writer moved the stream after that load (a customer's
// cancel), it re-runs fn on the stored order, as Update does, and returns
// that one.
func TestUpdateFromTheLoadedOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		orders := repository.NewOrders(s.Events, ports.SystemClock{})
		place := func() string {
			id := uuid.Must(uuid.NewV7()).String()
			o, err := order.Place(order.PlaceParams{OrderID: id, CustomerID: "c", Currency: "EUR",
				Items:           []order.Item{{SKU: "A", Quantity: 1, UnitPrice: 100}},
				ShippingAddress: order.Address{Name: "N", Line1: "L", City: "C", PostalCode: "1", Country: "DE"},
				PaymentMethod:   "tok"}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := orders.Create(t.Context(), o); err != nil {
				t.Fatal(err)
			}
			return id
		}
		confirmIfPlaced := func(o *order.Order) error {
			if o.Status() != order.StatusPlaced {
				return nil
			}
			return o.Confirm(time.Now())
		}
		load := func(id string) *order.Order {
			o, err := orders.Load(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			return o
		}

		id := place()
		got, err := orders.UpdateFrom(t.Context(), load(id), confirmIfPlaced)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status() != order.StatusConfirmed || load(id).Status() != order.StatusConfirmed || load(id).Version() != 2 {
			t.Fatalf("returned %s, stored %s v%d; want confirmed at v2", got.Status(), load(id).Status(), load(id).Version())
		}

		id = place()
		stale := load(id)
		if _, err := orders.Update(t.Context(), id, 0, func(o *order.Order) error { return o.Cancel("customer", time.Now()) }); err != nil {
			t.Fatal(err)
		}
		got, err = orders.UpdateFrom(t.Context(), stale, confirmIfPlaced)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status() != order.StatusCancelled || load(id).Status() != order.StatusCancelled || load(id).Version() != 2 {
			t.Fatalf("after a concurrent cancel: returned %s, stored %s v%d; want cancelled at v2",
				got.Status(), load(id).Status(), load(id).Version())
		}
	})
}
