package projection_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

var errCheckpointLost = errors.New("crash before the checkpoint")

// failingCheckpoints fails every SaveCheckpoint, as a crash between the
// row's save and the checkpoint's would.
type failingCheckpoints struct{ ports.CheckpointStore }

func (failingCheckpoints) SaveCheckpoint(context.Context, string, ports.Position) error {
	return errCheckpointLost
}

// The row's version is the record of what was applied: a crash after the
// row's save (before the checkpoint) and the redelivery, duplicated, apply
// the event once, with no inbox.
func TestRedeliveryAfterACrashAppliesOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := t.Context()
		repo := repository.NewOrders(s.Events, ports.SystemClock{})
		id := uuid.NewString()
		o, err := order.Place(order.PlaceParams{OrderID: id, CustomerID: "c", Currency: "EUR",
			Items:           []order.Item{{SKU: "A", Quantity: 1, UnitPrice: 100}},
			ShippingAddress: order.Address{Name: "N", Line1: "L", City: "C", PostalCode: "P", Country: "DE"},
			PaymentMethod:   "tok_visa"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := repo.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Update(ctx, id, 0, func(o *order.Order) error { return o.Confirm(time.Now()) }); err != nil {
			t.Fatal(err)
		}
		events, err := s.Events.Load(ctx, repository.Stream(id), 1)
		if err != nil || len(events) != 2 {
			t.Fatalf("load: %d events, %v", len(events), err)
		}
		crashing := projection.NewOrderSummary(s.Orders, s.Events).WithCheckpoints(failingCheckpoints{s.Checkpoints})
		if err := crashing.Handle(ctx, events[0]); !errors.Is(err, errCheckpointLost) {
			t.Fatalf("Handle = %v, want the checkpoint's failure", err)
		}
		live := projection.NewOrderSummary(s.Orders, s.Events).WithCheckpoints(s.Checkpoints)
		for _, e := range []ports.RecordedEvent{events[0], events[0], events[1], events[0], events[1]} {
			if err := live.Handle(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		row, err := s.Orders.Get(ctx, id)
		if err != nil || row.Version != 2 || row.Status != string(order.StatusConfirmed) {
			t.Fatalf("row %+v (%v), want version 2, confirmed", row, err)
		}
		cp, err := s.Checkpoints.Checkpoint(ctx, projection.OrderSummaryName)
		if err != nil || cp != events[1].Position {
			t.Fatalf("checkpoint %v (%v), want %v", cp, err, events[1].Position)
		}
	})
}
