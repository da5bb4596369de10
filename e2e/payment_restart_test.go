package e2e

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/service"
)

// TestPaymentSurvivesRestart: checkout authorizes two orders' payments,
// then the process is SIGKILLed and started again. The capture that
// shipping needs (one order) and the void that cancelling needs (the
// other) run in the new process, on authorizations the old one made: the
// sandbox provider keeps them in the store's database, so both succeed at
// the first attempt. With authorizations in process memory, both failed
// with "unknown authorization" and were retried forever.
func TestPaymentSurvivesRestart(t *testing.T) {
	eachStoreBinary(t, func(t *testing.T, _ string, b *storeBinary) {
		before := b.start(t)
		setStock(t, b.base, "A", 5)
		toShip, toCancel := placeWith(t, b.base, "tok_visa", "A"), placeWith(t, b.base, "tok_visa", "A")
		auths := map[string]string{}
		for _, id := range []string{toShip, toCancel} {
			auths[id] = authorizationOf(t, waitCheckout(t, b.base, id, "confirmed"))
		}
		_ = before.cmd.Process.Signal(syscall.SIGKILL)
		before.waitKilled(t)

		after := b.start(t)
		expectStatus(t, do(t, "POST", b.base+"/v1/orders/"+toShip+"/ship",
			map[string]string{"carrier": "DHL", "tracking_number": "T1"}), http.StatusOK)
		expectStatus(t, do(t, "POST", b.base+"/v1/orders/"+toCancel+"/cancel",
			map[string]string{"reason": "changed my mind"}), http.StatusOK)

		shipped := waitCheckout(t, b.base, toShip, "completed")
		if !hasStepDetail(shipped.Steps, "capture_payment", auths[toShip]) {
			t.Fatalf("shipped checkout did not capture %s: %+v", auths[toShip], shipped)
		}
		cancelled := waitCheckout(t, b.base, toCancel, "cancelled")
		if cancelled.Reason != "customer_cancelled" ||
			!reflect.DeepEqual(cancelled.compensated(), []string{"void_payment", "release_inventory"}) ||
			cancelled.Compensations[0].Detail != auths[toCancel] {
			t.Fatalf("cancelled checkout did not void %s: %+v", auths[toCancel], cancelled)
		}
		expectStock(t, b.base, "A", 4, 0)

		provider := openSandbox(t, b.cfg)
		for id, want := range map[string]string{toShip: paymentsandbox.StateCaptured, toCancel: paymentsandbox.StateVoided} {
			got, err := provider.State(t.Context(), auths[id])
			if err != nil || got != want {
				t.Errorf("provider: authorization %s of %s is %q (%v), want %q", auths[id], id, got, err, want)
			}
		}
		// The router logs every failed attempt before retrying it; the
		// saga's gateway errors say "capture payment of <order>" (or
		// void). Other retries are expected after a SIGKILL: messages
		// the killed process had claimed wait for their claims to lapse.
		_ = after.cmd.Process.Signal(syscall.SIGTERM)
		if err := <-after.done; err != nil {
			t.Fatalf("stop: %v\n%s", err, after.out)
		}
		out := after.out.String()
		if strings.Contains(out, "unknown authorization") || strings.Contains(out, "payment of ") {
			t.Fatalf("the restarted process retried payment calls:\n%s", out[max(0, len(out)-3000):])
		}
	})
}

// authorizationOf returns the authorization id a confirmed checkout
// recorded.
func authorizationOf(t *testing.T, c checkoutBody) string {
	t.Helper()
	for _, s := range c.Steps {
		if s.Step == "authorize_payment" && s.Status == "done" && s.Detail != "" {
			return s.Detail
		}
	}
	t.Fatalf("checkout recorded no authorization: %+v", c)
	return ""
}

func hasStepDetail(steps []stepBody, step, detail string) bool {
	for _, s := range steps {
		if s.Step == step && s.Status == "done" && s.Detail == detail {
			return true
		}
	}
	return false
}

// openSandbox opens the sandbox provider on cfg's store, as the provider's
// dashboard would show it.
func openSandbox(t *testing.T, cfg service.Config) *paymentsandbox.Gateway {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if cfg.Embedded() {
		db, err := sqlite.Open(ctx, cfg.SQLitePath())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return paymentsandbox.NewSQLite(db, paymentsandbox.Config{})
	}
	pool, err := pgxpool.New(ctx, cfg.PostgresURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return paymentsandbox.NewPostgres(pool, paymentsandbox.Config{})
}
