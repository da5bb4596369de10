package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
)

// An event the HTTP API would refuse (a NUL in the customer id and in a
// SKU), written straight into the event store, is a data error no retry can
// fix: every handler that fails on it parks it in the poison queue with
// the reason, and the pipeline goes on, so a later order is checked out and
// read as usual. The bad order's checkout, which can never advance, is
// parked (after its attempts) for an operator to see.
func TestDataErrorIsParkedAndPipelineFlows(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			cfg := s.config(t)
			// The bad order's checkout can never advance: the deadline
			// scanner parks it after two attempts (backoff 1s).
			cfg.CheckoutDeadline, cfg.DeadlineScanInterval, cfg.CheckoutMaxAttempts = 3*time.Second, 100*time.Millisecond, 2
			m, base := startMain(t, cfg)
			badID := uuid.Must(uuid.NewV7()).String()
			data, err := json.Marshal(order.Placed{
				OrderID: badID, CustomerID: "cust\x00nul", Currency: "EUR",
				Items:           []order.Item{{SKU: "SKU\x00NUL", Quantity: 1, UnitPrice: 500}},
				ShippingAddress: order.Address{Name: "A", Line1: "B", City: "C", PostalCode: "1", Country: "GB"},
				PaymentMethod:   "tok_visa", Total: 500, PlacedAt: time.Now().UTC(),
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Adapters().Events.Append(t.Context(), repository.Stream(badID), 0, []ports.NewEvent{{
				Type: order.EventPlaced, Data: data,
				Metadata: ports.EventMetadata{EventID: uuid.Must(uuid.NewV7()).String(), OccurredAt: time.Now().UTC()},
			}})
			if err != nil {
				t.Fatalf("append the bad event: %v", err)
			}

			setStock(t, base, "SKU-DATA-OK", 5)
			good := placeWith(t, base, "tok_visa", "SKU-DATA-OK")
			waitCheckout(t, base, good, "confirmed")
			waitReadModel(t, base, good, "confirmed")

			// On Postgres the projection hits the data error (text refuses
			// a NUL). The saga's handler only starts the checkout (the
			// order itself reads fine), so the data error is the
			// checkout's, which the runner and the scanner park below.
			// SQLite stores a NUL as it is: no message is parked there.
			want := []string{router.HandlerOrderSummary}
			reasons := []string{"22021", "invalid byte sequence"}
			if s.name == "sqlite" {
				want = nil
			}
			var page poisonPageBody
			waitFor(t, 60*time.Second, "the bad event to be parked by "+strings.Join(want, ", "), func() bool {
				r := do(t, "GET", base+"/v1/admin/poison?limit=100", nil)
				expectStatus(t, r, http.StatusOK)
				r.json(t, &page)
				found := 0
				for _, h := range want {
					for _, p := range page.Items {
						if p.Handler == h {
							found++
							break
						}
					}
				}
				return found == len(want)
			})
			t.Logf("parked: %+v", page.Items)
			for _, p := range page.Items {
				if !slices.ContainsFunc(reasons, func(r string) bool { return strings.Contains(p.Reason, r) }) {
					t.Errorf("parked by %s with reason %q, want the data error", p.Handler, p.Reason)
				}
			}

			c := waitCheckout(t, base, badID, "parked")
			if !strings.HasPrefix(c.Reason, "parked: 2 attempts failed") {
				t.Fatalf("parked checkout's reason %q", c.Reason)
			}
			metrics := do(t, "GET", base+"/metrics", nil)
			if !strings.Contains(string(metrics.body), `orderflow_checkouts_total{outcome="parked"`) {
				t.Fatal("no parked checkout in /metrics")
			}

			// An operator sees it and resumes it: back in the state it was
			// parked in, a resume step logged; the data is still bad, so
			// the scanner parks it again after its two attempts.
			var listed struct {
				Items []struct {
					OrderID     string `json:"order_id"`
					ResumeState string `json:"resume_state"`
				} `json:"items"`
			}
			do(t, "GET", base+"/v1/admin/checkouts?state=parked", nil).json(t, &listed)
			if len(listed.Items) != 1 || listed.Items[0].OrderID != badID || listed.Items[0].ResumeState == "" {
				t.Fatalf("parked checkouts listed: %+v", listed.Items)
			}
			var resumed checkoutBody
			r := do(t, "POST", base+"/v1/admin/checkouts/"+badID+"/resume", nil)
			expectStatus(t, r, http.StatusOK)
			r.json(t, &resumed)
			if resumed.State != listed.Items[0].ResumeState || resumed.Steps[len(resumed.Steps)-1].Step != "resume" {
				t.Fatalf("resumed checkout: %+v, want state %s and a resume step", resumed, listed.Items[0].ResumeState)
			}
			again := waitCheckout(t, base, badID, "parked")
			parks := 0
			for _, st := range again.Steps {
				if st.Step == "park" {
					parks++
				}
			}
			if parks != 2 {
				t.Fatalf("resumed checkout's steps %+v: want it tried and parked again", again.Steps)
			}
		})
	}
}
