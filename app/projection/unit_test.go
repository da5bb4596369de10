package projection_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/adapters/sqlite"
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

// The row and the checkpoint commit together: a failure between them
// leaves neither, and the redelivery applies the event once.
func TestApplyAndCheckpointCommitTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := t.Context()
		tx := unitOf(s)
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
		events, err := s.Events.Load(ctx, repository.Stream(id), 1)
		if err != nil || len(events) != 1 {
			t.Fatalf("load: %d events, %v", len(events), err)
		}
		crashing := projection.NewOrderSummary(s.Orders, s.Events).
			WithCheckpoints(failingCheckpoints{s.Checkpoints}).WithUnitOfWork(tx)
		if err := crashing.Handle(ctx, events[0]); !errors.Is(err, errCheckpointLost) {
			t.Fatalf("Handle = %v, want the checkpoint's failure", err)
		}
		if row, err := s.Orders.Get(ctx, id); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("after the failed unit the row is %+v (%v): applied without its checkpoint", row, err)
		}
		live := projection.NewOrderSummary(s.Orders, s.Events).WithCheckpoints(s.Checkpoints).WithUnitOfWork(tx)
		for range 2 { // the redelivery, and a duplicate of it
			if err := live.Handle(ctx, events[0]); err != nil {
				t.Fatal(err)
			}
		}
		row, err := s.Orders.Get(ctx, id)
		if err != nil || row.Version != 1 {
			t.Fatalf("row %+v (%v), want version 1", row, err)
		}
		cp, err := s.Checkpoints.Checkpoint(ctx, projection.OrderSummaryName)
		if err != nil || cp != events[0].Position {
			t.Fatalf("checkpoint %v (%v), want %v", cp, err, events[0].Position)
		}
	})
}

func unitOf(s storetest.Stores) ports.Transactor {
	if s.SQLite != nil {
		return sqlite.Stores(s.SQLite).Tx
	}
	return postgres.Stores(s.Postgres).Tx
}
