package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/orderflow/orderflow/router"
)

type poisonPageBody struct {
	Items []struct {
		ID            string    `json:"id"`
		MessageID     string    `json:"message_id"`
		Topic         string    `json:"topic"`
		Handler       string    `json:"handler"`
		Reason        string    `json:"reason"`
		FirstFailedAt time.Time `json:"first_failed_at"`
	} `json:"items"`
}

// A message no handler can process is parked with its reason and the
// partition flows on; the admin API and the CLI list, requeue and purge it.
func TestPoisonQueueEndToEnd(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			cfg := s.config(t)
			m, base := startMain(t, withoutSaga(cfg))
			bad := message.NewMessage(uuid.NewString(), []byte(`{"not":"an event"}`))
			if err := m.Adapters().Broker.Publisher.Publish(router.EventTopic("order"), bad); err != nil {
				t.Fatal(err)
			}
			// An order placed after the bad message still reaches the read model.
			placed := do(t, "POST", base+"/v1/orders", newOrder("cust-"+uuid.NewString()))
			expectStatus(t, placed, http.StatusCreated)
			waitFor(t, 30*time.Second, "the order behind the bad message", func() bool {
				return do(t, "GET", base+placed.header.Get("Location"), nil).status == http.StatusOK
			})

			var page poisonPageBody
			waitFor(t, 30*time.Second, "the bad message to be parked", func() bool {
				r := do(t, "GET", base+"/v1/admin/poison", nil)
				expectStatus(t, r, http.StatusOK)
				r.json(t, &page)
				return len(page.Items) == 1
			})
			p := page.Items[0]
			if p.MessageID != bad.UUID || p.Handler != router.HandlerOrderSummary || p.Topic != router.EventTopic("order") ||
				!strings.Contains(p.Reason, "is not an event") || p.FirstFailedAt.IsZero() {
				t.Fatalf("parked entry %+v", p)
			}
			expectStatus(t, do(t, "GET", base+"/v1/admin/poison/"+p.ID, nil), http.StatusOK)
			metrics := do(t, "GET", base+"/metrics", nil)
			if !bytes.Contains(metrics.body, []byte(`orderflow_router_poisoned_messages_total{handler_name="`+router.HandlerOrderSummary+`"} 1`)) {
				t.Fatalf("poisoned metric missing from /metrics")
			}

			// Requeue: it goes through the same route and, still bad, is parked again.
			expectStatus(t, do(t, "POST", base+"/v1/admin/poison/"+p.ID+"/requeue", nil), http.StatusOK)
			waitFor(t, 30*time.Second, "the requeued message to be parked again", func() bool {
				r := do(t, "GET", base+"/v1/admin/poison", nil)
				r.json(t, &page)
				return len(page.Items) == 1 && page.Items[0].ID != p.ID && page.Items[0].MessageID == bad.UUID
			})
			expectStatus(t, do(t, "GET", base+"/v1/admin/poison/"+p.ID, nil), http.StatusNotFound)

			// The CLI sees the same queue.
			flags := []string{"--data-dir", cfg.DataDir}
			if !cfg.Embedded() {
				flags = []string{"--postgres-url", cfg.PostgresURL}
			}
			var out, errOut bytes.Buffer
			if err := orderflow(t.Context(), append([]string{"poison", "list"}, flags...), &out, &errOut); err != nil {
				t.Fatalf("poison list: %v\n%s", err, errOut.String())
			}
			if !strings.Contains(out.String(), page.Items[0].ID) {
				t.Fatalf("poison list printed:\n%s", out.String())
			}
			out.Reset()
			if err := orderflow(t.Context(), append([]string{"poison", "purge"}, flags...), &out, &errOut); err != nil {
				t.Fatalf("poison purge: %v\n%s", err, errOut.String())
			}
			if strings.TrimSpace(out.String()) != "purged 1 messages" {
				t.Fatalf("poison purge printed %q", out.String())
			}
			r := do(t, "GET", base+"/v1/admin/poison", nil)
			r.json(t, &page)
			if len(page.Items) != 0 {
				t.Fatalf("after purge the queue holds %d messages", len(page.Items))
			}
			expectStatus(t, do(t, "DELETE", base+"/v1/admin/poison/"+p.ID, nil), http.StatusNotFound)
		})
	}
}
