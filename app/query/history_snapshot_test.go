package query_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
)

// Time travel is exact with snapshots on (one after every event): history
// folds from the events, whatever the snapshot holds.
func TestHistoryWithSnapshots(t *testing.T) {
	s := storetest.SQLite(t)
	a := app.New(app.Deps{Events: s.Events, Orders: s.Orders, Snapshots: s.Snapshots, SnapshotEvery: 1,
		Logger: slog.New(slog.DiscardHandler)})
	ctx := t.Context()
	id := placeOrder(t, a)
	if _, err := a.Commands.ConfirmOrder.Handle(ctx, command.ConfirmOrder{OrderID: id}); err != nil {
		t.Fatal(err)
	}
	res, err := a.Commands.ShipOrder.Handle(ctx, command.ShipOrder{OrderID: id, Carrier: "DHL", TrackingNumber: "1"})
	if err != nil || res.Version != 3 {
		t.Fatalf("ship: %+v, %v", res, err)
	}
	snap, err := s.Snapshots.LoadSnapshot(ctx, repository.Stream(id))
	if err != nil || snap.Version != 3 {
		t.Fatalf("snapshot %+v, %v; want one at version 3", snap, err)
	}
	for v, want := range map[int64]string{1: "placed", 2: "confirmed", 3: "shipped"} {
		got, err := a.Queries.OrderHistory.Handle(ctx, query.OrderHistory{OrderID: id, Version: v})
		if err != nil || got.Status != want || got.Version != v {
			t.Errorf("history at version %d: %s v%d, %v; want %s", v, got.Status, got.Version, err, want)
		}
	}
	got, err := a.Queries.OrderHistory.Handle(ctx, query.OrderHistory{OrderID: id, At: new(time.Now().Add(time.Hour))})
	if err != nil || got.Status != "shipped" {
		t.Errorf("history now: %+v, %v", got, err)
	}
}

// placeOrder places an order of two units of SKU A through a and returns
// its id.
func placeOrder(t *testing.T, a app.Application) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	_, err := a.Commands.PlaceOrder.Handle(t.Context(), command.PlaceOrder{PlaceParams: order.PlaceParams{
		OrderID: id, CustomerID: "c", Currency: "EUR", PaymentMethod: "tok",
		Items:           []order.Item{{SKU: "A", Quantity: 2, UnitPrice: 5}},
		ShippingAddress: order.Address{Name: "N", Line1: "L", City: "C", PostalCode: "1", Country: "DE"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}
