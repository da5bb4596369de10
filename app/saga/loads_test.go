package saga_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/ports"
)

// countingLoads counts the reads of order streams.
type countingLoads struct {
	ports.EventStore
	orderLoads atomic.Int64
}

func (c *countingLoads) Load(ctx context.Context, s ports.Stream, from int64) ([]ports.RecordedEvent, error) {
	if s.Type == order.AggregateType {
		c.orderLoads.Add(1)
	}
	return c.EventStore.Load(ctx, s, from)
}

// A checkout that goes straight to confirmed reads the order's stream once
// per unit of work: at the start, and after the provider's answer. The
// confirmation appends to the order loaded by its unit, and the unit goes
// on with the order it saved (before, each cost another read: 4 in all).
func TestConfirmingReadsTheOrderOncePerUnit(t *testing.T) {
	st := openSQLite(t)
	counting := &countingLoads{EventStore: st.events}
	st.events = counting
	e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
	e.stock(t, "A", 5)
	id := e.place(t, paymentsandbox.TokenApprove, item("A", 1))
	counting.orderLoads.Store(0)
	e.advance(t, id)
	if n := counting.orderLoads.Load(); n != 2 {
		t.Fatalf("the checkout read the order's stream %d times, want 2 (one per unit)", n)
	}
	e.expect(t, id, saga.StateConfirmed, order.StatusConfirmed, "")
}

// countingGets counts the reads of checkout rows.
type countingGets struct {
	ports.CheckoutStore
	gets atomic.Int64
}

func (c *countingGets) Get(ctx context.Context, orderID string) (ports.Checkout, error) {
	c.gets.Add(1)
	return c.CheckoutStore.Get(ctx, orderID)
}

// One Advance reads the checkout row once: the unit after the provider's
// answer starts from the checkout the unit before it saved (a concurrent
// change would fail its save's version check; the interleaving tests cover
// that). Before, every unit read the row again.
func TestAdvanceReadsTheCheckoutOnce(t *testing.T) {
	st := openSQLite(t)
	counting := &countingGets{CheckoutStore: st.checkouts}
	st.checkouts = counting
	e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
	e.stock(t, "A", 5)
	id := e.place(t, paymentsandbox.TokenApprove, item("A", 1))
	e.advance(t, id)
	if n := counting.gets.Load(); n != 1 {
		t.Fatalf("the Advance read the checkout %d times, want 1", n)
	}
	e.expect(t, id, saga.StateConfirmed, order.StatusConfirmed, "")
}
