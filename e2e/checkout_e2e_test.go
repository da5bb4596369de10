package e2e

import (
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCheckoutPaths drives every checkout path through the real Main on both
// stores, once with normal delivery and once with every message delivered
// twice to every handler (Watermill's Duplicator): the outcomes, stock
// levels and event streams must be the same.
func TestCheckoutPaths(t *testing.T) {
	for _, s := range stores {
		for _, dup := range []bool{false, true} {
			name := s.name
			if dup {
				name += "/duplicated"
			}
			t.Run(name, func(t *testing.T) {
				cfg := s.config(t)
				cfg.DuplicateMessagesForTests = dup
				cfg.CheckoutDeadline = 2 * time.Second
				cfg.SandboxLateAfter = 3 * time.Second
				cfg.DeadlineScanInterval = 100 * time.Millisecond
				_, base := startMain(t, cfg)
				setStock(t, base, "A", 5)
				setStock(t, base, "B", 1)

				happy := placeWith(t, base, "tok_visa", "A", "B")
				c := waitCheckout(t, base, happy, "confirmed")
				if len(c.Steps) < 4 || c.Reason != "" || len(c.Compensations) != 0 {
					t.Fatalf("happy checkout: %+v", c)
				}
				expectStock(t, base, "A", 5, 1)
				expectStock(t, base, "B", 1, 1)

				// B has nothing left: nothing of this order is reserved.
				short := placeWith(t, base, "tok_visa", "A", "B")
				c = waitCheckout(t, base, short, "cancelled")
				if c.Reason != "out_of_stock: B" || len(c.Compensations) != 0 {
					t.Fatalf("out of stock checkout: %+v", c)
				}
				expectStock(t, base, "A", 5, 1)
				var o orderBody
				do(t, "GET", base+"/v1/orders/"+short+"?min_version=2", nil).json(t, &o)
				if o.Status != "cancelled" || o.CancellationReason != "out_of_stock: B" {
					t.Fatalf("out of stock order: %+v", o)
				}

				declined := placeWith(t, base, "tok_chargeDeclined", "A")
				c = waitCheckout(t, base, declined, "cancelled")
				if c.Reason != "payment_declined: card_declined" || !reflect.DeepEqual(c.compensated(), []string{"release_inventory"}) {
					t.Fatalf("declined checkout: %+v", c)
				}
				r := do(t, "GET", base+"/v1/orders/"+declined+"?min_version=2", nil)
				if !strings.Contains(string(r.body), `"checkout":{"state":"cancelled","reason":"payment_declined: card_declined"}`) {
					t.Fatalf("order view lacks the failed checkout: %s", r.body)
				}

				timedOut := placeWith(t, base, "tok_timeout", "A")
				c = waitCheckout(t, base, timedOut, "cancelled")
				if c.Reason != "payment_timeout" || !reflect.DeepEqual(c.compensated(), []string{"void_payment", "release_inventory"}) ||
					c.Compensations[0].Detail == "" {
					t.Fatalf("timed out checkout: %+v", c)
				}
				expectStock(t, base, "A", 5, 1)

				// Ship the happy order: payment captured, reservation committed.
				expectStatus(t, do(t, "POST", base+"/v1/orders/"+happy+"/ship",
					map[string]string{"carrier": "DHL", "tracking_number": "T1"}), http.StatusOK)
				waitCheckout(t, base, happy, "completed")
				expectStock(t, base, "A", 4, 0)
				expectStock(t, base, "B", 0, 0)

				// No double effect anywhere, duplicated or not.
				for id, want := range map[string]string{
					happy: "placed,confirmed,shipped", short: "placed,cancelled",
					declined: "placed,cancelled", timedOut: "placed,cancelled",
				} {
					if got := orderEventTypes(t, base, id); got != want {
						t.Errorf("order %s events %s, want %s", id, got, want)
					}
				}
				metrics := string(do(t, "GET", base+"/metrics", nil).body)
				for _, m := range []string{
					`orderflow_checkouts_total{outcome="confirmed",reason=""} 1`,
					`orderflow_checkouts_total{outcome="cancelled",reason="out_of_stock"} 1`,
					`orderflow_checkouts_total{outcome="cancelled",reason="payment_declined"} 1`,
					`orderflow_checkouts_total{outcome="cancelled",reason="payment_timeout"} 1`,
					`orderflow_checkout_compensations_total{step="release_inventory"} 2`,
					`orderflow_checkout_compensations_total{step="void_payment"} 1`,
				} {
					if !strings.Contains(metrics, m) {
						t.Errorf("/metrics lacks %s", m)
					}
				}
			})
		}
	}
}

// TestCustomerCancelDuringPayment: the provider is slow, the customer
// cancels while the authorization is in flight; checkout voids the
// authorization and releases the stock.
func TestCustomerCancelDuringPayment(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			cfg := s.config(t)
			cfg.SandboxLatency = time.Second
			_, base := startMain(t, cfg)
			setStock(t, base, "A", 3)
			id := placeWith(t, base, "tok_visa", "A")
			waitFor(t, 30*time.Second, "the authorization request", func() bool {
				c, ok := getCheckout(t, base, id)
				return ok && len(c.Steps) > 0 && c.Steps[len(c.Steps)-1].Status == "requested"
			})
			expectStatus(t, do(t, "POST", base+"/v1/orders/"+id+"/cancel", map[string]string{"reason": "changed my mind"}), http.StatusOK)
			c := waitCheckout(t, base, id, "cancelled")
			if c.Reason != "customer_cancelled" || !reflect.DeepEqual(c.compensated(), []string{"void_payment", "release_inventory"}) {
				t.Fatalf("checkout: %+v", c)
			}
			expectStock(t, base, "A", 3, 0)
			if got := orderEventTypes(t, base, id); got != "placed,cancelled" {
				t.Fatalf("events %s", got)
			}
		})
	}
}

// TestCheckoutContention: 100 concurrent orders of one unit for a SKU with
// 10 in stock: exactly 10 confirmed, 90 cancelled out_of_stock, and the SKU
// ends with 10 reserved and none available (never negative).
func TestCheckoutContention(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			_, base := startMain(t, s.config(t))
			setStock(t, base, "HOT", 10)
			const n = 100
			ids := make([]string, n)
			var wg sync.WaitGroup
			for i := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ids[i] = placeWith(t, base, "tok_visa", "HOT")
				}()
			}
			wg.Wait()
			counts := map[string]int{}
			for _, id := range ids {
				c := waitCheckout(t, base, id, "confirmed", "cancelled")
				counts[c.State+" "+c.Reason]++
			}
			want := map[string]int{"confirmed ": 10, "cancelled out_of_stock: HOT": 90}
			if !reflect.DeepEqual(counts, want) {
				t.Fatalf("outcomes %v, want %v", counts, want)
			}
			expectStock(t, base, "HOT", 10, 10)
		})
	}
}
