package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

type orderBody struct {
	OrderID            string `json:"order_id"`
	CustomerID         string `json:"customer_id"`
	Status             string `json:"status"`
	Version            int64  `json:"version"`
	CancellationReason string `json:"cancellation_reason"`
	Carrier            string `json:"carrier"`
	TrackingNumber     string `json:"tracking_number"`
	Total              struct {
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
	} `json:"total"`
	Items []struct {
		SKU      string `json:"sku"`
		Quantity int64  `json:"quantity"`
	} `json:"items"`
}

// TestOrderLifecycleEndToEnd drives the real service over HTTP on each store:
// place, read your write, walk the state machine, list, events, time travel,
// errors, readiness and metrics.
func TestOrderLifecycleEndToEnd(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			_, base := startMain(t, s.config(t))
			customer := "cust-" + uuid.NewString()
			setStock(t, base, "SKU-RED-MUG", 100)
			setStock(t, base, "SKU-TEA", 100)

			r := do(t, "POST", base+"/v1/orders", newOrder(customer))
			expectStatus(t, r, http.StatusCreated)
			var placed orderBody
			r.json(t, &placed)
			if placed.Status != "placed" || placed.Version != 1 || placed.Total.Amount != 3399 || placed.Total.Currency != "EUR" {
				t.Fatalf("unexpected body %s", r.body)
			}
			if loc := r.header.Get("Location"); loc != "/v1/orders/"+placed.OrderID {
				t.Fatalf("Location %q", loc)
			}
			if r.header.Get("ETag") != `"1"` {
				t.Fatalf("ETag %q", r.header.Get("ETag"))
			}
			orderURL := base + "/v1/orders/" + placed.OrderID
			placedAt := time.Now().UTC()

			// Read your write through the projection (checkout may already
			// have confirmed it).
			r = do(t, "GET", orderURL+"?min_version=1", nil)
			expectStatus(t, r, http.StatusOK)
			var got orderBody
			r.json(t, &got)
			if (got.Status != "placed" && got.Status != "confirmed") || got.Version < 1 || got.CustomerID != customer || len(got.Items) != 2 || r.header.Get("Orderflow-Stale") != "" {
				t.Fatalf("read model: %s (stale header %q)", r.body, r.header.Get("Orderflow-Stale"))
			}

			// Checkout confirms the order (stock was set above); the public
			// confirm endpoint explains that it does not.
			waitCheckout(t, base, placed.OrderID, "confirmed")
			expectStatus(t, do(t, "GET", orderURL+"?min_version=2", nil), http.StatusOK)
			r = do(t, "POST", orderURL+"/confirm", nil, "If-Match", `"2"`)
			expectStatus(t, r, http.StatusConflict)
			if !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") || !strings.Contains(string(r.body), "checkout") {
				t.Fatalf("409: %s %s", r.header.Get("Content-Type"), r.body)
			}
			r = do(t, "POST", orderURL+"/ship", map[string]string{"carrier": "DHL", "tracking_number": "JD0000"}, "If-Match", `"1"`)
			expectStatus(t, r, http.StatusPreconditionFailed)
			if !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("412 content type %q", r.header.Get("Content-Type"))
			}
			expectStatus(t, do(t, "POST", orderURL+"/ship", map[string]string{"carrier": "DHL", "tracking_number": "JD0001"}), http.StatusOK)
			r = do(t, "POST", orderURL+"/cancel", map[string]string{"reason": "too late"})
			expectStatus(t, r, http.StatusConflict)
			r = do(t, "POST", orderURL+"/deliver", nil)
			expectStatus(t, r, http.StatusOK)
			var delivered orderBody
			r.json(t, &delivered)
			if delivered.Status != "delivered" || delivered.Version != 4 {
				t.Fatalf("deliver: %s", r.body)
			}

			r = do(t, "GET", orderURL+"?min_version=4", nil)
			expectStatus(t, r, http.StatusOK)
			r.json(t, &got)
			if got.Status != "delivered" || got.Carrier != "DHL" || got.TrackingNumber != "JD0001" {
				t.Fatalf("read model after deliver: %s", r.body)
			}
			expectStatus(t, do(t, "GET", orderURL, nil, "If-None-Match", `"4"`), http.StatusNotModified)
			// Shipping captured the payment and committed the reservation.
			waitCheckout(t, base, placed.OrderID, "completed")
			expectStock(t, base, "SKU-RED-MUG", 98, 0)

			// A second order, cancelled, for listing and filters.
			r = do(t, "POST", base+"/v1/orders", newOrder(customer))
			expectStatus(t, r, http.StatusCreated)
			var second orderBody
			r.json(t, &second)
			r = do(t, "POST", base+"/v1/orders/"+second.OrderID+"/cancel", map[string]string{"reason": "changed my mind"})
			expectStatus(t, r, http.StatusOK)
			var cancelled orderBody
			r.json(t, &cancelled)
			expectStatus(t, do(t, "GET", base+"/v1/orders/"+second.OrderID+fmt.Sprintf("?min_version=%d", cancelled.Version), nil), http.StatusOK)

			var page struct {
				Items      []orderBody `json:"items"`
				NextCursor *string     `json:"next_cursor"`
			}
			do(t, "GET", base+"/v1/orders?customer_id="+customer+"&limit=1", nil).json(t, &page)
			if len(page.Items) != 1 || page.Items[0].OrderID != second.OrderID || page.NextCursor == nil {
				t.Fatalf("first page: %+v", page)
			}
			cursor := *page.NextCursor
			page.NextCursor = nil
			do(t, "GET", base+"/v1/orders?customer_id="+customer+"&limit=1&cursor="+cursor, nil).json(t, &page)
			if len(page.Items) != 1 || page.Items[0].OrderID != placed.OrderID || (page.NextCursor != nil && *page.NextCursor != "") {
				t.Fatalf("second page: %+v", page)
			}
			do(t, "GET", base+"/v1/orders?customer_id="+customer+"&status=cancelled", nil).json(t, &page)
			if len(page.Items) != 1 || page.Items[0].OrderID != second.OrderID || page.Items[0].CancellationReason != "changed my mind" {
				t.Fatalf("status filter: %+v", page)
			}

			// The event stream and time travel.
			var events []struct {
				EventID string `json:"event_id"`
				Type    string `json:"type"`
				Version int64  `json:"version"`
			}
			do(t, "GET", orderURL+"/events", nil).json(t, &events)
			wantTypes := []string{"order.placed.v2", "order.confirmed.v1", "order.shipped.v1", "order.delivered.v1"}
			if len(events) != len(wantTypes) {
				t.Fatalf("events: %+v", events)
			}
			for i, e := range events {
				if e.Type != wantTypes[i] || e.Version != int64(i+1) || e.EventID == "" {
					t.Fatalf("event %d: %+v", i, e)
				}
			}
			var then orderBody
			do(t, "GET", orderURL+"/history?version=2", nil).json(t, &then)
			if then.Status != "confirmed" || then.Version != 2 {
				t.Fatalf("history at version 2: %+v", then)
			}
			r = do(t, "GET", orderURL+"/history?at="+placedAt.Format(time.RFC3339Nano), nil)
			expectStatus(t, r, http.StatusOK)
			r.json(t, &then)
			if then.Status != "placed" || then.Version != 1 {
				t.Fatalf("history at placement time: %s", r.body)
			}
			expectStatus(t, do(t, "GET", orderURL+"/history?version=9", nil), http.StatusNotFound)

			// Errors are problem+json and write nothing.
			expectStatus(t, do(t, "GET", base+"/v1/orders/"+uuid.NewString(), nil), http.StatusNotFound)
			bad := newOrder(customer)
			bad["items"] = []map[string]any{{"sku": "X", "quantity": 0, "unit_price": 5}}
			r = do(t, "POST", base+"/v1/orders", bad)
			expectStatus(t, r, http.StatusUnprocessableEntity)
			if !strings.Contains(string(r.body), "items[0].quantity") {
				t.Fatalf("422 does not name the field: %s", r.body)
			}
			expectStatus(t, do(t, "POST", base+"/v1/orders", []byte(`{"customer_id":`)), http.StatusBadRequest)
			do(t, "GET", base+"/v1/orders?customer_id="+customer, nil).json(t, &page)
			if len(page.Items) != 2 {
				t.Fatalf("rejected requests wrote something: %d orders", len(page.Items))
			}

			// Operations endpoints.
			expectStatus(t, do(t, "GET", base+"/healthz", nil), http.StatusOK)
			expectStatus(t, do(t, "GET", base+"/readyz", nil), http.StatusOK)
			r = do(t, "GET", base+"/metrics", nil)
			expectStatus(t, r, http.StatusOK)
			for _, metric := range []string{
				"orderflow_router_handler_execution_time_seconds",
				"orderflow_use_case_duration_seconds",
				`orderflow_checkouts_total{outcome="confirmed",reason=""}`,
				"orderflow_checkout_duration_seconds",
			} {
				if !strings.Contains(string(r.body), metric) {
					t.Errorf("/metrics lacks %s", metric)
				}
			}
			expectStatus(t, do(t, "GET", base+"/openapi.yaml", nil), http.StatusOK)
		})
	}
}

// TestConcurrentCommandsOnOneOrder: many clients race to change one order;
// exactly one cancel wins and the stream stays consistent.
func TestConcurrentCommandsOnOneOrder(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			_, base := startMain(t, s.config(t))
			setStock(t, base, "SKU-RED-MUG", 10)
			setStock(t, base, "SKU-TEA", 10)
			var placed orderBody
			do(t, "POST", base+"/v1/orders", newOrder("cust-race")).json(t, &placed)
			url := base + "/v1/orders/" + placed.OrderID
			const clients = 16
			statuses := make(chan int, clients)
			for i := range clients {
				go func() {
					res, err := http.Post(url+"/cancel", "application/json",
						strings.NewReader(fmt.Sprintf(`{"reason":"client %d"}`, i)))
					if err != nil {
						statuses <- 0
						return
					}
					res.Body.Close()
					statuses <- res.StatusCode
				}()
			}
			counts := map[int]int{}
			for range clients {
				counts[<-statuses]++
			}
			if counts[http.StatusOK] != 1 || counts[http.StatusConflict] != clients-1 {
				t.Fatalf("want 1 x 200 and %d x 409, got %v", clients-1, counts)
			}
			// Checkout may have started (and even confirmed the order) before
			// the cancel won, or never started; either way nothing stays
			// reserved and the order ends cancelled once.
			waitFor(t, 60*time.Second, "checkout to be compensated or never started", func() bool {
				c, started := getCheckout(t, base, placed.OrderID)
				return !started || c.State == "cancelled"
			})
			var events []struct{ Type string }
			do(t, "GET", url+"/events", nil).json(t, &events)
			last := events[len(events)-1]
			if len(events) < 2 || len(events) > 3 || last.Type != "order.cancelled.v1" {
				t.Fatalf("events: %+v", events)
			}
			expectStock(t, base, "SKU-RED-MUG", 10, 0)
		})
	}
}
