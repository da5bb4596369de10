package e2e

import (
	"testing"
	"time"

	"github.com/orderflow/orderflow/service"
)

// TestCheckoutSurvivesSIGKILLAtEveryStep runs the real binary with the
// test-only crash injection (ORDERFLOW_FAULT_KILL_AT): the process SIGKILLs
// itself right after the named saga step is saved. After a restart on the
// same data, the checkout must finish as it would have without the crash,
// and the stock must show exactly the reservations of confirmed orders.
func TestCheckoutSurvivesSIGKILLAtEveryStep(t *testing.T) {
	bin := mustBuildBinary(t)
	// The deadline is durable: a checkout still waiting for payment when
	// the process comes back past its deadline is cancelled with
	// payment_timeout. Only the timeout case wants that; the others get a
	// deadline long enough for the restart.
	cases := []struct {
		step, token, state, reason string
	}{
		{"reserve_inventory", "tok_visa", "confirmed", ""},
		{"authorize_payment_requested", "tok_visa", "confirmed", ""},
		{"authorize_payment", "tok_visa", "confirmed", ""},
		{"confirm_order", "tok_visa", "confirmed", ""},
		{"compensate", "tok_chargeDeclined", "cancelled", "payment_declined: card_declined"},
		{"release_inventory", "tok_chargeDeclined", "cancelled", "payment_declined: card_declined"},
		{"cancel_order", "tok_chargeDeclined", "cancelled", "payment_declined: card_declined"},
		{"void_payment", "tok_timeout", "cancelled", "payment_timeout"},
	}
	for _, s := range stores {
		for _, tc := range cases {
			t.Run(s.name+"/"+tc.step, func(t *testing.T) {
				cfg := s.config(t)
				deadline := "30s"
				if tc.token == "tok_timeout" {
					deadline = "1s"
				}
				b := newStoreBinary(t, bin, cfg, "ORDERFLOW_CHECKOUT_DEADLINE="+deadline,
					"ORDERFLOW_PAYMENT_SANDBOX_LATE_AFTER=1500ms", "ORDERFLOW_DEADLINE_SCAN_INTERVAL=100ms")
				base := b.base
				p := b.start(t, service.FaultKillAtEnv+"="+tc.step)
				setStock(t, base, "A", 5)
				id := placeWith(t, base, tc.token, "A")
				select {
				case err := <-p.done:
					if err == nil { // SIGKILL ends it with an *exec.ExitError
						t.Fatalf("the process exited cleanly instead of killing itself after %s:\n%s", tc.step, p.out)
					}
				case <-time.After(60 * time.Second):
					t.Fatalf("the process did not kill itself after %s:\n%s", tc.step, p.out)
				}

				b.start(t)
				c := waitCheckout(t, base, id, "confirmed", "cancelled")
				if c.State != tc.state || c.Reason != tc.reason {
					t.Fatalf("after a crash at %s: checkout %+v, want %s %q", tc.step, c, tc.state, tc.reason)
				}
				reserved := int64(0)
				if tc.state == "confirmed" {
					reserved = 1
				}
				expectStock(t, base, "A", 5, reserved)
				want := map[string]string{"confirmed": "placed,confirmed", "cancelled": "placed,cancelled"}[tc.state]
				if got := orderEventTypes(t, base, id); got != want {
					t.Fatalf("events %s, want %s", got, want)
				}
				t.Logf("%s: resumed to %s", tc.step, c.State)
			})
		}
	}
}
