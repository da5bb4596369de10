package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestInputEdgesEndToEnd: text a store cannot keep (NUL and other control
// characters, invalid UTF-8) is refused with 422 before it reaches storage,
// in bodies, paths and query parameters alike, never with a 5xx; and the
// pipeline keeps working afterwards (on Postgres a NUL in an event once
// wedged the projections with SQLSTATE 22021). Also the 404s of reads that
// name an order at a moment before it existed or an unknown order.
func TestInputEdgesEndToEnd(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			_, base := startMain(t, withoutSaga(s.config(t)))
			want := func(r response, status int, what string) {
				t.Helper()
				if r.status != status {
					t.Errorf("%s: status %d, want %d: %s", what, r.status, status, r.body)
				}
			}

			for field, mutate := range map[string]func(map[string]any){
				"customer_id":           func(o map[string]any) { o["customer_id"] = "cu\u0000st" },
				"items[0].sku":          func(o map[string]any) { o["items"].([]map[string]any)[0]["sku"] = "SKU\u001f" },
				"shipping_address.city": func(o map[string]any) { o["shipping_address"].(map[string]any)["city"] = "Lon\u007fdon" },
			} {
				o := newOrder("cust-" + uuid.NewString())
				mutate(o)
				r := do(t, "POST", base+"/v1/orders", o)
				want(r, http.StatusUnprocessableEntity, field)
				if !strings.Contains(string(r.body), `"field":"`+field+`"`) {
					t.Errorf("%s: the problem does not name the field: %s", field, r.body)
				}
			}
			raw := []byte(`{"customer_id":"c","currency":"EUR","items":[{"sku":"S","quantity":1,"unit_price":1}],` +
				`"shipping_address":{"name":"A` + "\xff" + `","line1":"B","city":"C","postal_code":"1","country":"GB"},` +
				`"payment_method":"tok_visa"}`)
			r := do(t, "POST", base+"/v1/orders", raw)
			want(r, http.StatusUnprocessableEntity, "invalid UTF-8")
			if !strings.Contains(string(r.body), `"field":"shipping_address.name"`) {
				t.Errorf("invalid UTF-8: the problem does not name the field: %s", r.body)
			}

			for _, target := range []string{
				"/v1/orders?customer_id=a%00b", "/v1/orders?cursor=%00", "/v1/orders?status=%00",
				"/v1/inventory/SKU%00", "/v1/inventory/SKU%FF", "/v1/orders/%00", "/v1/admin/poison/a%00b",
				"/v1/admin/poison?after=%00",
			} {
				r := do(t, "GET", base+target, nil)
				if r.status != http.StatusNotFound && r.status != http.StatusUnprocessableEntity {
					t.Errorf("GET %s: status %d, want 404 or 422: %s", target, r.status, r.body)
				}
			}

			// A valid order still flows through to the read model.
			r = do(t, "POST", base+"/v1/orders", newOrder("cust-"+uuid.NewString()))
			expectStatus(t, r, http.StatusCreated)
			var placed orderBody
			r.json(t, &placed)
			orderURL := base + "/v1/orders/" + placed.OrderID
			r = do(t, "POST", orderURL+"/cancel", map[string]any{"reason": "why\u0000"})
			want(r, http.StatusUnprocessableEntity, "cancel reason")
			waitFor(t, 10*time.Second, "the read model to have the order", func() bool {
				return do(t, "GET", orderURL, nil).status == http.StatusOK
			})

			for _, at := range []string{"2000-01-01T00:00:00Z", "0001-01-01T00:00:00Z"} {
				r = do(t, "GET", orderURL+"/history?at="+at, nil)
				want(r, http.StatusNotFound, "history at "+at)
				if !strings.Contains(string(r.body), "did not exist yet") {
					t.Errorf("history at %s: %s", at, r.body)
				}
			}
			want(do(t, "GET", base+"/v1/orders/"+uuid.NewString()+"/notifications", nil), http.StatusNotFound, "notifications of an unknown order")
		})
	}
}
