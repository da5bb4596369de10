package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type stockBody struct {
	SKU       string `json:"sku"`
	OnHand    int64  `json:"on_hand"`
	Reserved  int64  `json:"reserved"`
	Available int64  `json:"available"`
}

type stepBody struct {
	Step   string `json:"step"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

type checkoutBody struct {
	State         string     `json:"state"`
	Reason        string     `json:"reason"`
	Steps         []stepBody `json:"steps"`
	Compensations []stepBody `json:"compensations"`
}

func (c checkoutBody) compensated() []string {
	var out []string
	for _, s := range c.Compensations {
		out = append(out, s.Step)
	}
	return out
}

func setStock(t *testing.T, base, sku string, n int64) {
	t.Helper()
	expectStatus(t, do(t, "PUT", base+"/v1/inventory/"+sku, map[string]int64{"on_hand": n}), http.StatusOK)
}

func expectStock(t *testing.T, base, sku string, onHand, reserved int64) {
	t.Helper()
	var s stockBody
	r := do(t, "GET", base+"/v1/inventory/"+sku, nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &s)
	if s.OnHand != onHand || s.Reserved != reserved || s.Available != onHand-reserved {
		t.Fatalf("%s: %+v, want on_hand %d reserved %d", sku, s, onHand, reserved)
	}
}

// placeWith places an order of one unit of each sku, paid with token.
func placeWith(t *testing.T, base, token string, skus ...string) string {
	t.Helper()
	items := make([]map[string]any, len(skus))
	for i, sku := range skus {
		items[i] = map[string]any{"sku": sku, "quantity": 1, "unit_price": 500}
	}
	body := newOrder("checkout-cust")
	body["items"], body["payment_method"] = items, token
	r := do(t, "POST", base+"/v1/orders", body)
	expectStatus(t, r, http.StatusCreated)
	var o orderBody
	r.json(t, &o)
	return o.OrderID
}

func getCheckout(t *testing.T, base, id string) (checkoutBody, bool) {
	t.Helper()
	r := do(t, "GET", base+"/v1/orders/"+id+"/checkout", nil)
	if r.status == http.StatusNotFound {
		return checkoutBody{}, false
	}
	expectStatus(t, r, http.StatusOK)
	var c checkoutBody
	r.json(t, &c)
	return c, true
}

// waitCheckout waits until the order's checkout is in one of states.
func waitCheckout(t *testing.T, base, id string, states ...string) checkoutBody {
	t.Helper()
	var c checkoutBody
	waitFor(t, 60*time.Second, fmt.Sprintf("checkout of %s to be %v", id, states), func() bool {
		var ok bool
		c, ok = getCheckout(t, base, id)
		return ok && slices.Contains(states, c.State)
	})
	return c
}

// orderEventTypes lists the order's event types.
func orderEventTypes(t *testing.T, base, id string) string {
	t.Helper()
	var events []struct{ Type string }
	r := do(t, "GET", base+"/v1/orders/"+id+"/events", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &events)
	var types []string
	for _, e := range events {
		name := strings.TrimPrefix(e.Type, "order.")
		types = append(types, name[:strings.LastIndex(name, ".v")])
	}
	return strings.Join(types, ",")
}

// waitReadModel waits until GET /v1/orders/{id} (the read model) shows the
// order in status.
func waitReadModel(t *testing.T, base, id, status string) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("order %s %s in the read model", id, status), func() bool {
		r := do(t, "GET", base+"/v1/orders/"+id, nil)
		var o orderBody
		if r.status == http.StatusOK {
			r.json(t, &o)
		}
		return o.Status == status
	})
}
