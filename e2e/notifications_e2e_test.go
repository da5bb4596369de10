package e2e

import (
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/webhook"
	"github.com/orderflow/orderflow/service"
)

// TestNotificationsStoredAndSigned: confirmed, cancelled and shipped orders
// are listed at /notifications and POSTed, signed, to the webhook, which
// fails its first delivery (retried with backoff).
func TestNotificationsStoredAndSigned(t *testing.T) {
	eachStore(t, func(t *testing.T, cfg service.Config) {
		const secret = "whsec-test"
		var mu sync.Mutex
		received := map[string][]string{} // order id → kinds
		failedOnce := false
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if !hmac.Equal([]byte(r.Header.Get(webhook.SignatureHeader)), []byte(webhook.Sign(secret, body))) {
				t.Errorf("webhook: bad signature")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if !failedOnce {
				failedOnce = true
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			var m map[string]string
			_ = json.Unmarshal(body, &m)
			received[m["order_id"]] = append(received[m["order_id"]], m["kind"])
		}))
		defer hook.Close()

		cfg.WebhookURL, cfg.WebhookSecret = hook.URL, secret
		_, base := startMain(t, cfg)
		setStock(t, base, "A", 5)
		ok := placeWith(t, base, "tok_visa", "A")
		declined := placeWith(t, base, "tok_chargeDeclined", "A")
		waitCheckout(t, base, ok, "confirmed")
		expectStatus(t, do(t, "POST", base+"/v1/orders/"+ok+"/ship",
			map[string]string{"carrier": "DHL", "tracking_number": "T"}), http.StatusOK)
		waitCheckout(t, base, declined, "cancelled")

		type note struct {
			Kind   string `json:"kind"`
			Reason string `json:"reason"`
		}
		list := func(id string) []note {
			var ns []note
			r := do(t, "GET", base+"/v1/orders/"+id+"/notifications", nil)
			expectStatus(t, r, http.StatusOK)
			r.json(t, &ns)
			return ns
		}
		waitFor(t, 30*time.Second, "notifications", func() bool {
			return len(list(ok)) == 2 && len(list(declined)) == 1
		})
		if ns := list(ok); ns[0].Kind != "confirmed" || ns[1].Kind != "shipped" {
			t.Fatalf("notifications of the shipped order: %+v", ns)
		}
		if ns := list(declined); ns[0].Kind != "cancelled" || ns[0].Reason != "payment_declined: card_declined" {
			t.Fatalf("notifications of the declined order: %+v", ns)
		}
		waitFor(t, 30*time.Second, "webhook deliveries", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(received[ok]) == 2 && len(received[declined]) == 1
		})
	})
}
