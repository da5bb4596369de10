package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/router"
	"github.com/orderflow/orderflow/service"
)

// A webhook receiver that refuses every notification of one order (503)
// holds up no other order's notifications: the failing one is set aside in
// the retry queue after its retries in place, retried with backoff, and
// parked after --max-failed-deliveries with the reason, while the orders
// behind it are notified at once. Before the retry queue, the failing
// notification was nacked and redelivered first, each delivery retried in
// place for 30 s, and every later notification waited about two minutes.
func TestFailingWebhookOfOneOrderNeverDelaysTheOthers(t *testing.T) {
	eachStore(t, func(t *testing.T, cfg service.Config) {
		const secret = "whsec-test"
		var mu sync.Mutex
		confirmed := map[string]bool{}
		refused := 0
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var m map[string]string
			_ = json.Unmarshal(body, &m)
			mu.Lock()
			defer mu.Unlock()
			if m["kind"] == "cancelled" {
				refused++
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			confirmed[m["order_id"]] = true
		}))
		defer hook.Close()
		cfg.WebhookURL, cfg.WebhookSecret = hook.URL, secret
		cfg.Reliability.MaxFailedDeliveries = 3
		cfg.Reliability.RetryBackoff = 200 * time.Millisecond
		_, base := startMain(t, cfg)
		setStock(t, base, "A", 100)

		declined := placeWith(t, base, "tok_chargeDeclined", "A")
		waitCheckout(t, base, declined, "cancelled")
		waitFor(t, 30*time.Second, "the receiver refusing the cancellation", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return refused > 0
		})
		var behind []string
		for range 10 {
			behind = append(behind, placeWith(t, base, "tok_visa", "A"))
		}
		waitFor(t, 30*time.Second, "the ten orders behind the refused notification notified", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, id := range behind {
				if !confirmed[id] {
					return false
				}
			}
			return true
		})

		var page poisonPageBody
		waitFor(t, 60*time.Second, "the refused notification parked", func() bool {
			r := do(t, "GET", base+"/v1/admin/poison", nil)
			expectStatus(t, r, http.StatusOK)
			r.json(t, &page)
			return len(page.Items) == 1
		})
		p := page.Items[0]
		if p.Handler != router.HandlerNotifications || p.Topic != router.EventTopic("order") {
			t.Fatalf("parked %+v, want the notifications handler's message of %s", p, router.EventTopic("order"))
		}
		if !strings.Contains(p.Reason, "gave up after 3 failed deliveries") || !strings.Contains(p.Reason, "503") {
			t.Fatalf("reason %q", p.Reason)
		}
	})
}
