package projection_test

import (
	"context"
	"errors"
	"sync/atomic"
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

// placeOrder stores a new order of one line and returns its id.
func placeOrder(t *testing.T, repo *repository.Orders) string {
	t.Helper()
	id := uuid.NewString()
	o, err := order.Place(order.PlaceParams{OrderID: id, CustomerID: "c", Currency: "EUR",
		Items:           []order.Item{{SKU: "A", Quantity: 1, UnitPrice: 100}},
		ShippingAddress: order.Address{Name: "N", Line1: "L", City: "C", PostalCode: "P", Country: "DE"},
		PaymentMethod:   "tok_visa"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Create(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	return id
}

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
		id := placeOrder(t, repo)
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

// countingCheckpoints counts SaveCheckpoint calls.
type countingCheckpoints struct {
	ports.CheckpointStore
	saves atomic.Int64
}

func (c *countingCheckpoints) SaveCheckpoint(ctx context.Context, name string, pos ports.Position) error {
	c.saves.Add(1)
	return c.CheckpointStore.SaveCheckpoint(ctx, name, pos)
}

// With a checkpoint interval, Handle writes no checkpoint itself: a timer
// writes the newest Position, at most once per interval, so many events
// cost a few writes, and the checkpoint still reaches the last event.
func TestCheckpointsCoalesce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := t.Context()
		repo := repository.NewOrders(s.Events, ports.SystemClock{})
		var events []ports.RecordedEvent
		for range 10 {
			id := placeOrder(t, repo)
			es, err := s.Events.Load(ctx, repository.Stream(id), 1)
			if err != nil || len(es) != 1 {
				t.Fatalf("load: %d events, %v", len(es), err)
			}
			events = append(events, es...)
		}
		const interval = 200 * time.Millisecond
		cps := &countingCheckpoints{CheckpointStore: s.Checkpoints}
		p := projection.NewOrderSummary(s.Orders, s.Events).WithCheckpoints(cps).WithCheckpointInterval(interval)
		start := time.Now()
		for _, e := range events {
			if err := p.Handle(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		handling := time.Since(start)
		want := events[len(events)-1].Position
		deadline := time.Now().Add(30 * time.Second)
		for {
			cp, err := s.Checkpoints.Checkpoint(ctx, projection.OrderSummaryName)
			if err != nil {
				t.Fatal(err)
			}
			if cp == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("checkpoint %v, want the last event's %v", cp, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
		// One write per interval begun while the events were handled, and
		// one for the last.
		if n, most := cps.saves.Load(), int64(handling/interval)+2; n > most {
			t.Fatalf("%d checkpoint writes for %d events handled in %v, want at most %d", n, len(events), handling, most)
		}
	})
}

// countingRows counts the reads of order rows.
type countingRows struct {
	ports.OrderSummaryStore
	gets atomic.Int64
}

func (c *countingRows) Get(ctx context.Context, id string) (ports.OrderSummary, error) {
	c.gets.Add(1)
	return c.OrderSummaryStore.Get(ctx, id)
}

// A projector reads no row for an order's first event (there is none) nor
// for the next events of a row it saved itself; a row another projector
// moved meanwhile makes its conditional write stale, and it reads the row
// and applies the event right.
func TestAProjectorReadsOnlyRowsItDidNotSave(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := t.Context()
		repo := repository.NewOrders(s.Events, ports.SystemClock{})
		id := placeOrder(t, repo)
		for _, change := range []func(*order.Order) error{
			func(o *order.Order) error { return o.Confirm(time.Now()) },
			func(o *order.Order) error { return o.Ship("dhl", "track-1", time.Now()) },
		} {
			if _, err := repo.Update(ctx, id, 0, change); err != nil {
				t.Fatal(err)
			}
		}
		events, err := s.Events.Load(ctx, repository.Stream(id), 1)
		if err != nil || len(events) != 3 {
			t.Fatalf("load: %d events, %v", len(events), err)
		}
		rows := &countingRows{OrderSummaryStore: s.Orders}
		p := projection.NewOrderSummary(rows, s.Events)
		for _, e := range events[:2] {
			if err := p.Handle(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if n := rows.gets.Load(); n != 0 {
			t.Fatalf("%d row reads for the placed and confirmed events, want 0", n)
		}
		// Another projector applies the third event; this one's memory of
		// the row is now behind.
		if err := projection.NewOrderSummary(s.Orders, s.Events).Handle(ctx, events[2]); err != nil {
			t.Fatal(err)
		}
		for _, e := range events { // redeliveries: nothing changes
			if err := p.Handle(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		row, err := s.Orders.Get(ctx, id)
		if err != nil || row.Version != 3 || row.Status != string(order.StatusShipped) {
			t.Fatalf("row %+v (%v), want version 3, shipped", row, err)
		}
	})
}
