package saga_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/domain/payment"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/ports"
)

// batchMetrics records the batches of a saga.
type batchMetrics struct {
	saga.NopMetrics
	mu        sync.Mutex
	committed []int // units per committed batch
	failed    []int
}

func (m *batchMetrics) Batched(units int, committed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if committed {
		m.committed = append(m.committed, units)
	} else {
		m.failed = append(m.failed, units)
	}
}

func (m *batchMetrics) largest() (committed, failed int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Max(append([]int{0}, m.committed...)), slices.Max(append([]int{0}, m.failed...))
}

// slowTx holds every transaction a while before it commits, so that the
// Advances running beside one queue for the next batch.
type slowTx struct{ ports.Transactor }

func (s slowTx) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.Transactor.InTx(ctx, func(ctx context.Context) error {
		if err := fn(ctx); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
		return nil
	})
}

// batched replaces e's saga with one whose units commit in batches, on
// e's stores stopped by h.
func (e *env) batched(st stores, h *hooks) *batchMetrics {
	clock := ports.SystemClock{}
	batches := saga.NewBatches(lockingEvents{hookedEvents{EventStore: st.events, h: h}})
	m := &batchMetrics{}
	e.saga = saga.New(saga.Config{}, saga.Deps{Orders: repository.NewOrders(batches.Events(), clock),
		Stocks: repository.NewStocks(batches.Events(), clock), Payments: repository.NewPayments(batches.Events(), clock),
		Checkouts: hookedCheckouts{CheckoutStore: st.checkouts, h: h}, Tx: slowTx{st.tx}, Gateway: e.gateway,
		Clock: clock, Metrics: m, Batches: batches})
	return m
}

// lockingEvents are hooked events that lock streams as the store does
// (ports.StreamLocker) and read several at once (ports.StreamsLoader), as
// the service's do.
type lockingEvents struct{ hookedEvents }

func (s lockingEvents) LockStreams(ctx context.Context, streams ...ports.Stream) error {
	if l, ok := s.EventStore.(ports.StreamLocker); ok {
		return l.LockStreams(ctx, streams...)
	}
	return nil
}

func (s lockingEvents) LoadStreams(ctx context.Context, streams []ports.Stream) (map[ports.Stream][]ports.RecordedEvent, error) {
	return s.EventStore.(ports.StreamsLoader).LoadStreams(ctx, streams)
}

// placeOneEach places n approved orders of one unit of a new SKU with 100
// in stock.
func (e *env) placeOneEach(t *testing.T, n int) (sku string, ids []string) {
	t.Helper()
	sku = "A-" + uuid.NewString()[:8]
	e.stock(t, sku, 100)
	for range n {
		ids = append(ids, e.place(t, paymentsandbox.TokenApprove, item(sku, 1)))
	}
	return sku, ids
}

// advanceAll advances the checkouts of ids concurrently, as the handlers
// of several partitions do.
func (e *env) advanceAll(t *testing.T, ids []string) {
	t.Helper()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if err := e.saga.Advance(context.Background(), id); err != nil {
				t.Errorf("advance %s: %v", id, err)
			}
		})
	}
	wg.Wait()
}

// Concurrent checkouts commit together, and a batch is what its units
// would be alone: of eight orders for a SKU with five in stock, five are
// confirmed, reserved one after the other in the same batches; declined
// payments release their stock; every stream's events reach ReadAll in
// version order.
func TestConcurrentCheckoutsCommitInBatches(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		m := e.batched(st, &hooks{})
		hot, many := "H-"+uuid.NewString()[:8], "B-"+uuid.NewString()[:8]
		e.stock(t, hot, 5)
		e.stock(t, many, 100)
		var hots, manys, declined []string
		for range 8 {
			hots = append(hots, e.place(t, paymentsandbox.TokenApprove, item(hot, 1)))
			manys = append(manys, e.place(t, paymentsandbox.TokenApprove, item(many, 2)))
		}
		for range 2 {
			declined = append(declined, e.place(t, paymentsandbox.TokenDecline, item(many, 1)))
		}
		e.advanceAll(t, slices.Concat(hots, manys, declined))

		// Nothing writes beside the batches, which take turns: none fails
		// (each would have run its units again alone).
		if largest, failed := m.largest(); largest < 2 || failed > 0 {
			t.Fatalf("batches committed %v, failed %v: want one of two units or more, and no failure", m.committed, m.failed)
		}
		confirmed := 0
		for _, id := range hots {
			c, err := e.checkouts.Get(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			switch c.State {
			case saga.StateConfirmed:
				confirmed++
				e.paymentStatus(t, id, payment.StatusAuthorized)
			default:
				e.expect(t, id, saga.StateCancelled, order.StatusCancelled, saga.ReasonOutOfStock)
			}
		}
		if confirmed != 5 {
			t.Fatalf("%d orders of the SKU with 5 in stock confirmed, want 5", confirmed)
		}
		e.levels(t, hot, 5, 5)
		for _, id := range manys {
			e.expect(t, id, saga.StateConfirmed, order.StatusConfirmed, "")
			e.paymentStatus(t, id, payment.StatusAuthorized)
		}
		for _, id := range declined {
			e.expect(t, id, saga.StateCancelled, order.StatusCancelled, saga.ReasonPaymentDeclined)
			e.paymentStatus(t, id, payment.StatusDeclined)
		}
		e.levels(t, many, 100, 16)
		checkReadAllOrder(t, st.events)
	})
}

// A batch whose commit fails, or one of whose units panics, leaves
// nothing, and its units run alone.
func TestABatchThatFailsRunsItsUnitsAlone(t *testing.T) {
	for _, panics := range []bool{false, true} {
		t.Run(map[bool]string{false: "error", true: "panic"}[panics], func(t *testing.T) {
			testABatchThatFails(t, panics)
		})
	}
}

func testABatchThatFails(t *testing.T, panics bool) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		first := once()
		m := e.batched(st, &hooks{beforeAppend: func(_ context.Context, appends []ports.StreamAppend) error {
			if events(appends) > 1 && first() { // a batch's merged append
				if panics {
					panic("injected: the batch panics")
				}
				return errors.New("injected: the batch's append fails")
			}
			return nil
		}})
		sku, ids := e.placeOneEach(t, 10)
		e.advanceAll(t, ids)
		if _, failed := m.largest(); failed < 2 {
			t.Fatalf("no batch failed (%v)", m.failed)
		}
		for _, id := range ids {
			e.expect(t, id, saga.StateConfirmed, order.StatusConfirmed, "")
			e.paymentStatus(t, id, payment.StatusAuthorized)
		}
		e.levels(t, sku, 100, 10)
		checkReadAllOrder(t, st.events)
	})
}

// A customer cancels an order while the batch that confirms it commits:
// on Postgres the cancel commits first, the batch's append finds the order
// moved and fails, and the order's unit, alone, compensates; on SQLite the
// cancel waits for the batch, and the cancel's delivery compensates the
// confirmed order. Either way the order ends cancelled, its stock released
// and its payment voided, and the batch's other orders are confirmed.
func TestACancelDuringABatchCompensates(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		var cancelled atomic.Value
		first := once()
		var wg sync.WaitGroup
		e.batched(st, &hooks{beforeAppend: func(_ context.Context, appends []ports.StreamAppend) error {
			for _, a := range appends {
				if a.Stream.Type != order.AggregateType || len(appends) < 2 ||
					!slices.ContainsFunc(a.Events, func(ev ports.NewEvent) bool { return ev.Type == order.EventConfirmed }) || !first() {
					continue
				}
				cancelled.Store(a.Stream.ID)
				done := make(chan struct{})
				wg.Go(func() {
					defer close(done)
					if _, err := e.orders.Update(context.Background(), a.Stream.ID, 0, func(o *order.Order) error {
						return o.Cancel("changed my mind", time.Now())
					}); err != nil {
						t.Errorf("cancel: %v", err)
					}
				})
				select {
				case <-done:
				case <-time.After(300 * time.Millisecond): // it waits for the batch (SQLite)
				}
				break
			}
			return nil
		}})
		sku, ids := e.placeOneEach(t, 10)
		e.advanceAll(t, ids)
		wg.Wait()
		id, ok := cancelled.Load().(string)
		if !ok {
			t.Fatal("no batch confirmed an order")
		}
		e.advance(t, id) // the cancel's delivery
		c := e.expect(t, id, saga.StateCancelled, order.StatusCancelled, "")
		if saga.ReasonCode(c.Reason) != saga.ReasonCustomerCancelled {
			t.Fatalf("checkout reason %q, want %s", c.Reason, saga.ReasonCustomerCancelled)
		}
		e.paymentStatus(t, id, payment.StatusVoided)
		if got := e.providerState(t, c); got != "voided" {
			t.Fatalf("the provider's authorization is %s, want voided", got)
		}
		for _, other := range ids {
			if other != id {
				e.expect(t, other, saga.StateConfirmed, order.StatusConfirmed, "")
			}
		}
		e.levels(t, sku, 100, 9)
		checkReadAllOrder(t, st.events)
	})
}

// checkReadAllOrder reads every event and fails if a stream's versions do
// not grow in ReadAll's order.
func checkReadAllOrder(t *testing.T, events ports.EventStore) {
	t.Helper()
	last := map[ports.Stream]int64{}
	var after ports.Position
	for {
		page, err := events.ReadAll(t.Context(), after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return
		}
		for _, e := range page {
			if e.Version != last[e.Stream]+1 {
				t.Fatalf("%s: ReadAll delivers version %d after %d", e.Stream, e.Version, last[e.Stream])
			}
			last[e.Stream] = e.Version
		}
		after = page[len(page)-1].Position
	}
}

func events(appends []ports.StreamAppend) int {
	n := 0
	for _, a := range appends {
		n += len(a.Events)
	}
	return n
}

// countingStreams counts the reads of order streams, alone (Load) and
// together (LoadStreams); it locks as the store does.
type countingStreams struct {
	countingLoads
	together atomic.Int64
}

func (c *countingStreams) LockStreams(ctx context.Context, streams ...ports.Stream) error {
	return c.EventStore.(ports.StreamLocker).LockStreams(ctx, streams...)
}

func (c *countingStreams) LoadStreams(ctx context.Context, streams []ports.Stream) (map[ports.Stream][]ports.RecordedEvent, error) {
	c.together.Add(1)
	return c.EventStore.(ports.StreamsLoader).LoadStreams(ctx, streams)
}

// A batch reads the orders of its units in one LoadStreams before they
// run, and its units load none by itself: of eight concurrent checkouts,
// only the units that ran in a batch of one (no read ahead) read their
// order alone.
func TestABatchReadsItsOrdersTogether(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		counts := &countingStreams{countingLoads: countingLoads{EventStore: st.events}}
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		m := e.batched(stores{events: counts, checkouts: st.checkouts, tx: st.tx, gateway: st.gateway}, &hooks{})
		sku, ids := e.placeOneEach(t, 8)
		counts.orderLoads.Store(0)
		e.advanceAll(t, ids)
		for _, id := range ids {
			e.expect(t, id, saga.StateConfirmed, order.StatusConfirmed, "")
		}
		e.levels(t, sku, 100, 8)
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.failed) > 0 {
			t.Fatalf("batches failed: %v", m.failed)
		}
		alone := 0
		for _, n := range m.committed {
			if n == 1 {
				alone++
			}
		}
		if got := counts.orderLoads.Load(); got > int64(alone) {
			t.Errorf("%d loads of an order stream by itself, want at most %d, one a unit in a batch of one (batches of %v)",
				got, alone, m.committed)
		}
		if counts.together.Load() == 0 {
			t.Errorf("no batch read its orders together (batches of %v)", m.committed)
		}
	})
}
