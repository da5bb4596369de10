package saga_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/app/domain/inventory"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/domain/payment"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/ports"
)

// The tests of this file stop a checkout between a step's effect and the
// save that records it, let the customer (or the warehouse) act on the
// order, then let the checkout go on: whatever the interleaving, it ends
// completed or cancelled, with stock conserved and every effect done once.
// The effect and the save commit in one transaction, so a crash between
// them leaves neither (interleavings_test.go explores every boundary).

var errCrash = errors.New("crash between the effect and the checkout save")

// racer is process B, which cancels the order and advances its checkout
// while process A is stopped in a unit of work.
type racer struct {
	e     *env
	id    string
	first func() bool
	wait  func()
	fn    func()
}

func cancelledByB(t *testing.T, e *env, id string) *racer {
	return &racer{e: e, id: id, first: once(), wait: func() {}, fn: func() {
		cancelOrder(t, e, id)
		if err := e.saga.Advance(context.Background(), id); err != nil {
			t.Errorf("advance by B: %v", err)
		}
	}}
}

// turn runs B beside A, the first time only.
func (b *racer) turn() {
	if b.first() {
		b.wait = beside(b.fn)
	}
}

// advanceA runs A, waits for B, and delivers B's events to the checkout.
func (b *racer) advanceA(t *testing.T, a *saga.Checkout) {
	t.Helper()
	if err := a.Advance(t.Context(), b.id); err != nil {
		t.Fatalf("advance by A: %v", err)
	}
	b.wait()
	b.e.advance(t, b.id)
}

// beside runs fn beside a stopped unit of work: fn ends before the unit
// goes on unless it waits for a lock the unit holds (always on SQLite,
// whose writers serialise at BEGIN); then it runs on once the unit has
// ended. The returned func waits for fn.
func beside(fn func()) (wait func()) {
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(300 * time.Millisecond):
	}
	return func() { <-done }
}

// crashBefore fails the first save of a checkout matching saved, as a crash
// right after that step's effect would.
func crashBefore(saved func(ports.Checkout) bool) *hooks {
	first := once()
	return &hooks{beforeSave: func(_ context.Context, c ports.Checkout) error {
		if saved(c) && first() {
			return errCrash
		}
		return nil
	}}
}

func cancelOrder(t *testing.T, e *env, id string) {
	t.Helper()
	if _, err := e.orders.Update(t.Context(), id, 0, func(o *order.Order) error {
		return o.Cancel("changed my mind", time.Now())
	}); err != nil {
		t.Fatal(err)
	}
}

func shipOrder(t *testing.T, e *env, id string) {
	t.Helper()
	if _, err := e.orders.Update(t.Context(), id, 0, func(o *order.Order) error {
		return o.Ship("dhl", "T1", time.Now())
	}); err != nil {
		t.Fatal(err)
	}
}

func appendsEvent(appends []ports.StreamAppend, eventType string) bool {
	for _, a := range appends {
		for _, ev := range a.Events {
			if ev.Type == eventType {
				return true
			}
		}
	}
	return false
}

// The process crashes after the reservation was appended but before the
// checkout recorded it, and the customer cancels: no stock may stay held.
// (Before the unit of work, the reservation stayed and compensation, which
// releases what the step log says, leaked it.)
func TestCancelBetweenReservationAndItsSaveReleasesStock(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e, id := placeTwoOfFive(t, st, paymentsandbox.TokenApprove)
		crashBeforeSaving(t, e, st, id, saga.StateAuthorizing)
		e.levels(t, "A", 5, 0) // the reservation rolled back with the unit

		cancelOrder(t, e, id)
		e.advance(t, id) // the order.cancelled event's delivery
		e.expect(t, id, saga.StateCancelled, order.StatusCancelled, "")
		e.levels(t, "A", 5, 0)
		if v := e.stockVersion(t, "A"); v != 1 {
			t.Fatalf("stock of A at version %d, want 1: set only", v)
		}
	})
}

// Process A appends the reservation after process B, seeing the order
// cancelled, compensated and cancelled the checkout (releasing nothing, as
// nothing was held yet); A's checkout save then fails on the version and A
// reloads a cancelled checkout. The late hold must still be released.
func TestReservationAppendedAfterCompensationIsReleased(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e, id := placeTwoOfFive(t, st, paymentsandbox.TokenApprove)
		b := cancelledByB(t, e, id)
		a := e.hooked(st, &hooks{beforeAppend: func(_ context.Context, appends []ports.StreamAppend) error {
			if appendsEvent(appends, inventory.EventReserved) {
				b.turn() // between A's load of the stock and its append
			}
			return nil
		}})
		b.advanceA(t, a)
		expectReleasedOnce(t, e, id)
	})
}

// Process A appended the reservation; before A saves its checkout, process
// B sees the order cancelled, compensates and cancels the checkout; A's save
// then fails on the version and A reloads a cancelled checkout. B must have
// released A's reservation.
func TestCompensationRacingTheReserveSaveReleasesStock(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e, id := placeTwoOfFive(t, st, paymentsandbox.TokenApprove)
		b := cancelledByB(t, e, id)
		a := e.hooked(st, &hooks{beforeSave: func(_ context.Context, c ports.Checkout) error {
			if c.State == saga.StateAuthorizing {
				b.turn()
			}
			return nil
		}})
		b.advanceA(t, a)
		e.expect(t, id, saga.StateCancelled, order.StatusCancelled, "")
		e.levels(t, "A", 5, 0)
		expectNothingPaid(t, e, id)
		expectStockVersionAfterRedelivery(t, e, id, 1, 3)
	})
}

// The process crashes after the checkout confirmed the order but before it
// saved that. (Before the unit of work the order stayed confirmed, was
// shipped, and the checkout stranded in confirming.) Now the confirmation
// rolls back with the unit: nothing is confirmed, the redelivery confirms
// and saves together, and shipping settles.
func TestShipBetweenConfirmAndItsSaveSettles(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e, id := placeTwoOfFive(t, st, paymentsandbox.TokenApprove)
		crashBeforeSaving(t, e, st, id, saga.StateConfirmed)
		if o, err := e.orders.Load(t.Context(), id); err != nil || o.Status() != order.StatusPlaced {
			t.Fatalf("after the crash the order is %v (%v), want placed: the confirmation is half-applied", o.Status(), err)
		}
		e.advance(t, id) // a redelivery
		shipOrder(t, e, id)
		e.advance(t, id) // the order.shipped event's delivery
		c := e.expect(t, id, saga.StateCompleted, order.StatusShipped, "")
		e.levels(t, "A", 3, 0)
		e.paymentStatus(t, id, payment.StatusCaptured)
		if s := e.providerState(t, c); s != paymentsandbox.StateCaptured {
			t.Fatalf("provider: %s, want captured", s)
		}

		v := e.stockVersion(t, "A")
		e.advance(t, id)
		if got := e.stockVersion(t, "A"); got != v || got != 3 {
			t.Fatalf("stock of A at version %d after a redelivery (%d before), want 3: set, reserved, committed", got, v)
		}
		again := e.expect(t, id, saga.StateCompleted, order.StatusShipped, "")
		if again.Version != c.Version {
			t.Fatalf("checkout moved from version %d to %d on a redelivery", c.Version, again.Version)
		}
	})
}

// The customer cancels after the checkout confirmed the order but before it
// saved that: the checkout compensates (void, release) instead.
func TestCancelBetweenConfirmAndItsSaveCompensates(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e, id := placeTwoOfFive(t, st, paymentsandbox.TokenApprove)
		crashBeforeSaving(t, e, st, id, saga.StateConfirmed)
		cancelOrder(t, e, id)
		e.advance(t, id)
		expectVoidedAndReleased(t, e, id)
		expectStockVersionAfterRedelivery(t, e, id, 3)
	})
}

// The customer cancels the order between the checkout's load of it and its
// confirmation: the confirmation meets a cancelled order, and the same
// Advance compensates (void, release) rather than waiting for another event.
func TestCancelDuringConfirmCompensates(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e, id := placeTwoOfFive(t, st, paymentsandbox.TokenApprove)
		first := once()
		wait := func() {}
		racing := e.hooked(st, &hooks{beforeAppend: func(_ context.Context, appends []ports.StreamAppend) error {
			if appendsEvent(appends, order.EventConfirmed) && first() {
				wait = beside(func() { cancelOrder(t, e, id) })
			}
			return nil
		}})
		if err := racing.Advance(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		wait()
		e.advance(t, id) // the order.cancelled event's delivery
		expectVoidedAndReleased(t, e, id)
	})
}

// placeTwoOfFive places an order of two units of A, of which five are on
// hand, paid with token.
func placeTwoOfFive(t *testing.T, st stores, token string) (*env, string) {
	e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
	e.stock(t, "A", 5)
	return e, e.place(t, token, item("A", 2))
}

// expectReleasedOnce checks that the checkout of id is cancelled with its
// hold on A released and nothing authorized, and that the deliveries of
// the inventory events that follow (two more Advances) release nothing
// twice: A's stream stays at set, reserved, released.
func expectReleasedOnce(t *testing.T, e *env, id string) {
	t.Helper()
	e.expect(t, id, saga.StateCancelled, order.StatusCancelled, "")
	e.levels(t, "A", 5, 0)
	expectNothingPaid(t, e, id)
	v := e.stockVersion(t, "A")
	e.advance(t, id)
	e.advance(t, id)
	if got := e.stockVersion(t, "A"); got != v || (got != 1 && got != 3) {
		t.Fatalf("stock of A at version %d after redeliveries (%d before), want 1 (set; the reservation rolled back) or 3 (set, reserved, released)", got, v)
	}
}

// expectNothingPaid checks that the payment of id was never authorized, or
// voided: on SQLite, whose writers serialise, the racing cancel may come
// after the authorization.
func expectNothingPaid(t *testing.T, e *env, id string) {
	t.Helper()
	p, err := e.payments.Load(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status() != payment.StatusNone && p.Status() != payment.StatusVoided {
		t.Fatalf("payment %q, want none or voided", p.Status())
	}
}

// expectVoidedAndReleased checks that the customer's cancel compensated the
// checkout of id: payment voided at the provider, the hold on A released.
func expectVoidedAndReleased(t *testing.T, e *env, id string) {
	t.Helper()
	c := e.expect(t, id, saga.StateCancelled, order.StatusCancelled, "")
	if c.Reason != saga.ReasonCustomerCancelled {
		t.Fatalf("reason %q", c.Reason)
	}
	e.levels(t, "A", 5, 0)
	e.paymentStatus(t, id, payment.StatusVoided)
	if s := e.providerState(t, c); s != paymentsandbox.StateVoided {
		t.Fatalf("provider: %s, want voided", s)
	}
}

// expectStockVersionAfterRedelivery advances id once more (a redelivered
// event) and checks A's stream is at one of want: set (the reservation
// rolled back with its unit), or set, reserved, released.
func expectStockVersionAfterRedelivery(t *testing.T, e *env, id string, want ...int64) {
	t.Helper()
	e.advance(t, id)
	if got := e.stockVersion(t, "A"); !slices.Contains(want, got) {
		t.Fatalf("stock of A at version %d, want one of %v: set (reservation rolled back), or set, reserved, released", got, want)
	}
}

// crashBeforeSaving advances id in a second saga instance that crashes
// right before it saves the checkout in state: the step's effect is stored,
// the checkout does not record it.
func crashBeforeSaving(t *testing.T, e *env, st stores, id, state string) {
	t.Helper()
	crashing := e.hooked(st, crashBefore(func(c ports.Checkout) bool { return c.State == state }))
	if err := crashing.Advance(t.Context(), id); !errors.Is(err, errCrash) {
		t.Fatalf("advance: %v, want the crash before saving %s", err, state)
	}
}
