package saga_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/domain/payment"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/ports"
)

// Tests of started checkouts (ready.go): Start, the hand-off to this
// process's runner, claims, and RunStarted.

// process is another saga process on e's stores, with clock.
func (e *env) process(st stores, clock ports.Clock) *saga.Checkout {
	return saga.New(saga.Config{}, saga.Deps{Orders: e.orders, Stocks: e.stocks, Payments: e.payments,
		Checkouts: e.checkouts, Tx: st.tx, Gateway: e.gateway, Clock: clock})
}

// Started checkouts run from the database, claimed in sets: a set's units
// commit in batches as large as the set, and a start repeated (a
// redelivered order.placed) changes nothing.
func TestStartedCheckoutsRunInSets(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		m := e.batched(st, &hooks{})
		sku := "A-" + uuid.NewString()[:8]
		e.stock(t, sku, 100)
		var ids []string
		for range 20 {
			id := e.place(t, paymentsandbox.TokenApprove, item(sku, 1))
			ids = append(ids, id)
			for range 2 {
				if err := e.saga.Start(t.Context(), id); err != nil {
					t.Fatal(err)
				}
			}
		}
		select {
		case <-e.saga.Started():
		default:
			t.Fatal("Start did not signal")
		}
		n, err := e.runStarted(t, 64)
		if err != nil || n != 20 {
			t.Fatalf("ran %d, %v; want 20", n, err)
		}
		if n, err := e.runStarted(t, 64); err != nil || n != 0 {
			t.Fatalf("ran %d again, %v; want none", n, err)
		}
		for _, id := range ids {
			e.expect(t, id, saga.StateConfirmed, order.StatusConfirmed, "")
		}
		e.levels(t, sku, 100, 20)
		if largest, failed := m.largest(); largest < 10 || failed > 0 {
			t.Fatalf("batches committed %v, failed %v: want one of ten units or more, and no failure", m.committed, m.failed)
		}
		checkReadAllOrder(t, st.events)
	})
}

// runStarted claims up to limit started checkouts and runs them
// concurrently, as the service's runner does, and waits for them.
func (e *env) runStarted(t *testing.T, limit int) (int, error) {
	t.Helper()
	ids, err := e.saga.ClaimStarted(t.Context(), limit)
	if err != nil {
		return 0, err
	}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { errs[i] = e.saga.RunStarted(t.Context(), id) })
	}
	wg.Wait()
	return len(ids), errors.Join(errs...)
}

// A checkout started while the process's runner is attached is handed to
// it, leased to this process: no claim takes it. Beyond the hand-off's
// room, and once the runner detaches, started checkouts wait for a claim.
func TestStartedCheckoutsAreHandedToTheRunner(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{HandOff: 2}, paymentsandbox.Config{})
		sku := "A-" + uuid.NewString()[:8]
		e.stock(t, sku, 100)
		detach := e.saga.Attach()
		var ids []string
		for range 3 {
			id := e.place(t, paymentsandbox.TokenApprove, item(sku, 1))
			ids = append(ids, id)
			if err := e.saga.Start(t.Context(), id); err != nil {
				t.Fatal(err)
			}
		}
		claimed, err := e.saga.ClaimStarted(t.Context(), 64)
		if err != nil || !slices.Equal(claimed, ids[2:]) {
			t.Fatalf("claimed %v, %v; want only the one beyond the hand-off, %s", claimed, err, ids[2])
		}
		handed, spilled := e.saga.TakeStarted(64)
		if !slices.Equal(handed, ids[:2]) || !spilled {
			t.Fatalf("handed %v, spilled %v; want %v, true", handed, spilled, ids[:2])
		}
		if handed, spilled := e.saga.TakeStarted(64); len(handed) != 0 || spilled {
			t.Fatalf("taken again: %v, spilled %v", handed, spilled)
		}
		detach()
		late := e.place(t, paymentsandbox.TokenApprove, item(sku, 1))
		if err := e.saga.Start(t.Context(), late); err != nil {
			t.Fatal(err)
		}
		if handed, _ := e.saga.TakeStarted(64); len(handed) != 0 {
			t.Fatalf("handed %v with no runner attached", handed)
		}
		if claimed, err := e.saga.ClaimStarted(t.Context(), 64); err != nil || !slices.Equal(claimed, []string{late}) {
			t.Fatalf("claimed %v, %v; want %s", claimed, err, late)
		}
		for _, id := range append(ids, late) {
			if err := e.saga.RunStarted(t.Context(), id); err != nil {
				t.Fatal(err)
			}
			e.expect(t, id, saga.StateConfirmed, order.StatusConfirmed, "")
		}
		e.levels(t, sku, 100, 4)
	})
}

// A process that dies with checkouts handed to its runner (started, not
// yet run) leaves them leased to itself: the next process claims them once
// the lease ends, and finishes them.
func TestAHandedCheckoutOfADeadProcessIsClaimedAfterItsLease(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		clock := &offsetClock{}
		process := func() *saga.Checkout { return e.process(st, clock) }
		sku := "A-" + uuid.NewString()[:8]
		e.stock(t, sku, 10)
		dead := process()
		dead.Attach() // its runner dies before it takes the checkout
		id := e.place(t, paymentsandbox.TokenApprove, item(sku, 1))
		if err := dead.Start(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		next := process()
		if claimed, err := next.ClaimStarted(t.Context(), 64); err != nil || len(claimed) != 0 {
			t.Fatalf("claimed %v, %v during the dead process's lease; want none", claimed, err)
		}
		clock.advance(saga.ClaimLease + time.Second)
		claimed, err := next.ClaimStarted(t.Context(), 64)
		if err != nil || !slices.Equal(claimed, []string{id}) {
			t.Fatalf("claimed %v, %v after the lease; want %s", claimed, err, id)
		}
		if err := next.RunStarted(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		e.expect(t, id, saga.StateConfirmed, order.StatusConfirmed, "")
		e.levels(t, sku, 10, 1)
	})
}

// A checkout handed to the runner starts from the row Start saved: its
// Advance reads no checkout row. Were the row moved meanwhile (here,
// another process's Advance confirmed it), the first unit's save fails
// its version check, its effects roll back, and the next unit reads the
// row: nothing is done twice.
func TestAHandedCheckoutStartsFromTheRowStartSaved(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		gets := &countingGets{CheckoutStore: st.checkouts}
		st.checkouts = gets
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		sku := "A-" + uuid.NewString()[:8]
		e.stock(t, sku, 10)
		detach := e.saga.Attach()
		defer detach()
		start := func() string {
			t.Helper()
			id := e.place(t, paymentsandbox.TokenApprove, item(sku, 1))
			if err := e.saga.Start(t.Context(), id); err != nil {
				t.Fatal(err)
			}
			if handed, _ := e.saga.TakeStarted(64); !slices.Equal(handed, []string{id}) {
				t.Fatalf("handed %v, want %s", handed, id)
			}
			return id
		}
		// run runs a handed checkout and returns how often it read its row.
		run := func(id string) int64 {
			t.Helper()
			gets.gets.Store(0)
			if err := e.saga.RunStarted(t.Context(), id); err != nil {
				t.Fatal(err)
			}
			return gets.gets.Load()
		}
		id := start()
		if n := run(id); n != 0 {
			t.Errorf("a handed checkout's Advance read its row %d times, want 0", n)
		}
		e.expect(t, id, saga.StateConfirmed, order.StatusConfirmed, "")

		moved := start()
		if err := e.process(st, ports.SystemClock{}).Advance(t.Context(), moved); err != nil {
			t.Fatal(err)
		}
		if n := run(moved); n != 1 {
			t.Errorf("a handed checkout moved meanwhile was read %d times, want 1 (after its failed save)", n)
		}
		e.expect(t, moved, saga.StateConfirmed, order.StatusConfirmed, "")
		e.levels(t, sku, 10, 2)
		e.paymentStatus(t, moved, payment.StatusAuthorized)
	})
}
