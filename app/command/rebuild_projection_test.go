package command_test

import (
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

func placeOrders(t *testing.T, s storetest.Stores, n int) []string {
	t.Helper()
	a := app.New(app.Deps{Events: s.Events, Orders: s.Orders, Logger: slog.New(slog.DiscardHandler)})
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7()).String()
		_, err := a.Commands.PlaceOrder.Handle(t.Context(), command.PlaceOrder{PlaceParams: order.PlaceParams{
			OrderID: ids[i], CustomerID: "c", Currency: "EUR", PaymentMethod: "tok",
			Items:           []order.Item{{SKU: "A", Quantity: 1, UnitPrice: 5}},
			ShippingAddress: order.Address{Name: "N", Line1: "L", City: "C", PostalCode: "1", Country: "DE"},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// The rebuild projects every stored event into the read model the live
// projector never filled, reporting its progress against the event count.
func TestRebuildProjection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ids := placeOrders(t, s, 5)
		storetest.ReadAll(t, s.Events, len(ids))
		a := app.NewAdmin(app.AdminDeps{Events: s.Events, Orders: s.Orders, Shadow: s.Shadow, Checkpoints: s.Checkpoints,
			Logger: slog.New(slog.DiscardHandler)})
		var reports []projection.RebuildProgress
		res, err := a.RebuildProjection.Handle(t.Context(), command.RebuildProjection{Projection: projection.OrderSummaryName,
			BatchSize: 2, Progress: func(p projection.RebuildProgress) { reports = append(reports, p) }})
		if err != nil || res.Events != int64(len(ids)) || res.Position == (ports.Position{}) {
			t.Fatalf("rebuild = %+v, %v; want %d events", res, err, len(ids))
		}
		if len(reports) < 3 || reports[0].Phase != "rebuild" || reports[0].Total != int64(len(ids)) ||
			reports[len(reports)-1].Events != int64(len(ids)) {
			t.Fatalf("progress %+v", reports)
		}
		for _, id := range ids {
			if got, err := s.Orders.Get(t.Context(), id); err != nil || got.Status != "placed" {
				t.Errorf("order %s after the rebuild: %+v, %v", id, got, err)
			}
		}
	})
}

func TestRebuildProjectionRefuses(t *testing.T) {
	s := storetest.SQLite(t)
	a := app.NewAdmin(app.AdminDeps{Events: s.Events, Orders: s.Orders, Shadow: s.Shadow, Logger: slog.New(slog.DiscardHandler)})
	if _, err := a.RebuildProjection.Handle(t.Context(), command.RebuildProjection{Projection: "nope"}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("unknown projection: %v, want invalid", err)
	}
	// Resuming needs the shadow table an interrupted rebuild left.
	_, err := a.RebuildProjection.Handle(t.Context(), command.RebuildProjection{Projection: projection.OrderSummaryName,
		From: ports.Position{Commit: 7, Prepare: 7}})
	if err == nil {
		t.Fatal("resumed a rebuild that never started")
	}
}
