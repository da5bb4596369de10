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

// countingGets counts the reads of checkout rows.
type countingGets struct {
	ports.CheckoutStore
	gets atomic.Int64
}

func (c *countingGets) Get(ctx context.Context, orderID string) (ports.Checkout, error) {
	c.gets.Add(1)
	return c.CheckoutStore.Get(ctx, orderID)
}

// A checkout that goes straight to confirmed reads the order's stream once
// per unit of work (at the start, and after the provider's answer) and the
// checkout row once. The confirmation appends to the order loaded by its
// unit, which goes on with the order it saved; the unit after the
// provider's answer starts from the checkout the unit before it saved (a
// concurrent change would fail its save's version check; the interleaving
// tests cover that). Before, the order's stream was read 4 times and the
// row once per unit.
func TestAConfirmedCheckoutReadsOncePerUnit(t *testing.T) {
	st := openSQLite(t)
	loads := &countingLoads{EventStore: st.events}
	gets := &countingGets{CheckoutStore: st.checkouts}
	st.events, st.checkouts = loads, gets
	e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
	e.stock(t, "A", 5)
	id := e.place(t, paymentsandbox.TokenApprove, item("A", 1))
	loads.orderLoads.Store(0)
	e.advance(t, id)
	if n := loads.orderLoads.Load(); n != 2 {
		t.Errorf("the checkout read the order's stream %d times, want 2 (one per unit)", n)
	}
	if n := gets.gets.Load(); n != 1 {
		t.Errorf("the Advance read the checkout %d times, want 1", n)
	}
	e.expect(t, id, saga.StateConfirmed, order.StatusConfirmed, "")
}
