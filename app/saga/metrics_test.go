package saga_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/ports"
)

// stepMetrics records what the saga reports of its steps and confirmations.
type stepMetrics struct {
	saga.NopMetrics
	mu        sync.Mutex
	steps     []string // step:outcome
	elapsed   map[string]time.Duration
	confirmed []time.Duration
}

func (m *stepMetrics) StepFinished(_ context.Context, step, outcome string, elapsed time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.steps = append(m.steps, step+":"+outcome)
	if m.elapsed == nil {
		m.elapsed = map[string]time.Duration{}
	}
	m.elapsed[step] = elapsed
}

func (m *stepMetrics) OrderConfirmed(_ context.Context, sincePlaced time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.confirmed = append(m.confirmed, sincePlaced)
}

// A confirmed checkout reports each step once, with its outcome and a
// duration, and the order's place→confirmed time exactly once, however
// often its events are redelivered.
func TestStepAndConfirmationMetrics(t *testing.T) {
	st := openSQLite(t)
	e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
	m := &stepMetrics{}
	e.saga = saga.New(saga.Config{}, saga.Deps{Orders: e.orders, Stocks: e.stocks, Payments: e.payments,
		Checkouts: e.checkouts, Tx: st.tx, Gateway: e.gateway, Clock: ports.SystemClock{}, Metrics: m})
	e.stock(t, "A", 5)

	id := e.place(t, paymentsandbox.TokenApprove, item("A", 1))
	const placedBefore = 30 * time.Millisecond
	time.Sleep(placedBefore)
	e.advance(t, id)
	e.advance(t, id) // a redelivery
	e.expect(t, id, saga.StateConfirmed, order.StatusConfirmed, "")
	want := []string{"reserve_inventory:done", "authorize_payment:done", "confirm_order:done"}
	if !slices.Equal(m.steps, want) {
		t.Fatalf("steps %v, want %v", m.steps, want)
	}
	for step, d := range m.elapsed {
		if d < 0 || d > 10*time.Second {
			t.Errorf("step %s took %v", step, d)
		}
	}
	if len(m.confirmed) != 1 || m.confirmed[0] < placedBefore || m.confirmed[0] > 10*time.Second {
		t.Fatalf("place→confirmed %v, want one time of at least %v", m.confirmed, placedBefore)
	}

	// A declined payment: the failed step, the compensations, and no
	// confirmation.
	m.steps, m.confirmed = nil, nil
	id = e.place(t, paymentsandbox.TokenDecline, item("A", 1))
	e.advance(t, id)
	e.expect(t, id, saga.StateCancelled, order.StatusCancelled, "payment_declined")
	want = []string{"reserve_inventory:done", "authorize_payment:failed", "release_inventory:done", "cancel_order:done"}
	if !slices.Equal(m.steps, want) || len(m.confirmed) != 0 {
		t.Fatalf("declined: steps %v (want %v), confirmations %v (want none)", m.steps, want, m.confirmed)
	}
}
