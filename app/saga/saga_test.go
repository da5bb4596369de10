package saga_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/domain/payment"
	"github.com/orderflow/orderflow/app/saga"
)

func TestHappyPathThenShip(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		e.stock(t, "A", 5)
		e.stock(t, "B", 1)
		id := e.place(t, paymentsandbox.TokenApprove, item("A", 2), item("B", 1))
		e.advance(t, id)
		e.advance(t, id) // a redelivery changes nothing
		e.expect(t, id, saga.StateConfirmed, order.StatusConfirmed, "")
		e.levels(t, "A", 5, 2)
		e.levels(t, "B", 1, 1)
		e.paymentStatus(t, id, payment.StatusAuthorized)

		if _, err := e.orders.Update(t.Context(), id, 0, func(o *order.Order) error { return o.Ship("dhl", "T1", time.Now()) }); err != nil {
			t.Fatal(err)
		}
		e.advance(t, id)
		e.expect(t, id, saga.StateCompleted, order.StatusShipped, "")
		e.levels(t, "A", 3, 0)
		e.levels(t, "B", 0, 0)
		e.paymentStatus(t, id, payment.StatusCaptured)
	})
}

func TestOneLineOutOfStockReservesNothing(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		e.stock(t, "A", 5)
		e.stock(t, "B", 1)
		id := e.place(t, paymentsandbox.TokenApprove, item("A", 2), item("B", 2), item("C", 1))
		e.advance(t, id)
		c := e.expect(t, id, saga.StateCancelled, order.StatusCancelled, "out_of_stock: B, C")
		if len(c.Compensations) != 0 {
			t.Fatalf("compensations %+v for a checkout that did nothing", c.Compensations)
		}
		e.levels(t, "A", 5, 0)
		e.levels(t, "B", 1, 0)
		e.paymentStatus(t, id, payment.StatusNone)
	})
}

func TestDeclinedReleasesThenCancels(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		e.stock(t, "A", 5)
		id := e.place(t, paymentsandbox.TokenDecline, item("A", 2))
		e.advance(t, id)
		c := e.expect(t, id, saga.StateCancelled, order.StatusCancelled, "payment_declined: card_declined")
		if len(c.Compensations) != 1 || c.Compensations[0].Step != saga.StepReleaseInventory {
			t.Fatalf("compensations %+v, want only the release", c.Compensations)
		}
		e.levels(t, "A", 5, 0)
		e.paymentStatus(t, id, payment.StatusDeclined)
	})
}

func TestTimeoutVoidsLateAuthorization(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{Deadline: 200 * time.Millisecond},
			paymentsandbox.Config{LateAfter: 400 * time.Millisecond})
		e.stock(t, "A", 5)
		id := e.place(t, paymentsandbox.TokenTimeout, item("A", 1))
		e.advance(t, id)
		c := e.expect(t, id, saga.StateCancelled, order.StatusCancelled, "payment_timeout")
		if len(c.Compensations) != 2 || c.Compensations[0].Step != saga.StepVoidPayment || c.Compensations[0].Detail == "" {
			t.Fatalf("compensations %+v, want the late authorization voided, then the release", c.Compensations)
		}
		e.levels(t, "A", 5, 0)
		e.paymentStatus(t, id, payment.StatusVoided)
	})
}

func TestCustomerCancelDuringPaymentCompensates(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{Latency: 300 * time.Millisecond})
		e.stock(t, "A", 5)
		id := e.place(t, paymentsandbox.TokenApprove, item("A", 1))
		done := make(chan error, 1)
		go func() { done <- e.saga.Advance(context.Background(), id) }()
		// Cancel once the authorization has been requested.
		waitFor(t, func() bool {
			c, err := e.checkouts.Get(t.Context(), id)
			return err == nil && len(c.Steps) > 0 && c.Steps[len(c.Steps)-1].Status == "requested"
		})
		if _, err := e.orders.Update(t.Context(), id, 0, func(o *order.Order) error { return o.Cancel("changed my mind", time.Now()) }); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		e.advance(t, id) // the order.cancelled event's delivery
		c := e.expect(t, id, saga.StateCancelled, order.StatusCancelled, "")
		if c.Reason != saga.ReasonCustomerCancelled || len(c.Compensations) != 2 {
			t.Fatalf("reason %q compensations %+v", c.Reason, c.Compensations)
		}
		e.levels(t, "A", 5, 0)
		e.paymentStatus(t, id, payment.StatusVoided)
	})
}

func TestContentionNeverOversells(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		e.stock(t, "HOT", 10)
		const n = 100
		ids := make([]string, n)
		for i := range ids {
			ids[i] = e.place(t, paymentsandbox.TokenApprove, item("HOT", 1))
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// As the router would: retry a transient failure.
				for attempt := 0; ; attempt++ {
					err := e.saga.Advance(context.Background(), id)
					if err == nil || attempt == 20 {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		confirmed, outOfStock := 0, 0
		for _, id := range ids {
			c, err := e.checkouts.Get(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.State == saga.StateConfirmed:
				confirmed++
			case c.State == saga.StateCancelled && c.Reason == "out_of_stock: HOT":
				outOfStock++
			default:
				t.Errorf("%s: %s %q", id, c.State, c.Reason)
			}
		}
		if confirmed != 10 || outOfStock != 90 {
			t.Fatalf("confirmed %d, out of stock %d; want 10 and 90", confirmed, outOfStock)
		}
		e.levels(t, "HOT", 10, 10)
	})
}

func TestOutOfStockReasonFitsAnOrder(t *testing.T) {
	e := newEnv(t, openSQLite(t), saga.Config{}, paymentsandbox.Config{})
	var items []order.Item
	for i := range 60 {
		items = append(items, item(strings.Repeat("é", 20)+string(rune('A'+i%26))+string(rune('a'+i/26)), 1))
	}
	id := e.place(t, paymentsandbox.TokenApprove, items...)
	e.advance(t, id)
	c := e.expect(t, id, saga.StateCancelled, order.StatusCancelled, "out_of_stock: ")
	if n := len([]rune(c.Reason)); n != 500 || !strings.HasSuffix(c.Reason, "...") {
		t.Fatalf("reason of %d characters: %q", n, c.Reason)
	}
}

// Two deliveries of one order's event advance its checkout concurrently:
// an order that failed to reserve must never be confirmed by the other.
func TestConcurrentAdvanceOfOneOrderNeverConfirmsAFailedReservation(t *testing.T) {
	bothStores(t, func(t *testing.T, st stores) {
		e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
		e.stock(t, "ONE", 1)
		ids := make([]string, 20)
		for i := range ids {
			ids[i] = e.place(t, paymentsandbox.TokenApprove, item("ONE", 1))
		}
		var wg sync.WaitGroup
		for _, id := range ids {
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for attempt := 0; attempt < 20; attempt++ {
						if e.saga.Advance(context.Background(), id) == nil {
							return
						}
					}
					t.Errorf("advance %s kept failing", id)
				}()
			}
		}
		wg.Wait()
		confirmed := 0
		for _, id := range ids {
			c, err := e.checkouts.Get(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if c.State == saga.StateConfirmed {
				confirmed++
			}
		}
		if confirmed != 1 {
			t.Fatalf("%d confirmed, want 1", confirmed)
		}
		e.levels(t, "ONE", 1, 1)
	})
}
