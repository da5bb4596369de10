package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The HTTP target sends what openapi.yaml asks for (paths, bodies, the API
// key) and turns answers into results or *StatusErrors.
func TestHTTPTarget(t *testing.T) {
	type call struct{ method, path, body, auth string }
	var calls []call
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls = append(calls, call{r.Method, r.URL.RequestURI(), string(b), r.Header.Get("Authorization")})
		switch {
		case r.URL.Path == "/v1/orders" && r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"order_id":"o-1","status":"placed","version":1}`)
		case r.URL.Path == "/v1/orders/o-1":
			w.Header().Set("Orderflow-Stale", "true")
			_, _ = io.WriteString(w, `{"order_id":"o-1","status":"placed","version":1}`)
		case r.URL.Path == "/v1/orders/o-2":
			_, _ = io.WriteString(w, `{"status":"confirmed","version":2}`)
		case r.URL.Path == "/v1/orders/bad-json":
			_, _ = io.WriteString(w, `{"status":`)
		case r.URL.Path == "/v1/orders/no-id" || r.URL.Path == "/v1/orders/x/cancel":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"title":"unavailable"}`)
		default:
			_, _ = io.WriteString(w, `{}`)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	h := NewHTTPTarget(srv.URL+"/", "k1", 4)

	if err := h.SetStock(ctx, "LT-x-00001", 7); err != nil {
		t.Fatal(err)
	}
	id, err := h.Place(ctx, Placement{CustomerID: "c", SKUs: []string{"A", "B"}, UnitPrice: 5, Token: tokenDecline})
	if err != nil || id != "o-1" {
		t.Fatalf("place: %q, %v", id, err)
	}
	st, err := h.Get(ctx, "o-1", 2)
	if err != nil || st != (OrderState{Status: "placed", Version: 1, Stale: true}) {
		t.Errorf("get o-1: %+v, %v", st, err)
	}
	if st, err := h.Get(ctx, "o-2", 0); err != nil || st != (OrderState{Status: "confirmed", Version: 2}) {
		t.Errorf("get o-2: %+v, %v", st, err)
	}
	if _, err := h.Get(ctx, "bad-json", 2); err == nil || !strings.Contains(err.Error(), "read: answer") {
		t.Errorf("a body that does not decode: %v", err)
	}
	for _, f := range []func() error{
		func() error { return h.Ship(ctx, "o-1", "DHL", "T1") },
		func() error { return h.Deliver(ctx, "o-1") },
	} {
		if err := f(); err != nil {
			t.Error(err)
		}
	}
	err = h.Cancel(ctx, "x", "why")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != "503" || se.Op != "cancel" || errorCode(err) != "503" {
		t.Errorf("cancel refused: %#v", err)
	}

	want := []call{
		{"PUT", "/v1/inventory/LT-x-00001", `{"on_hand":7}`, "Bearer k1"},
		{"POST", "/v1/orders", "", "Bearer k1"},
		{"GET", "/v1/orders/o-1?min_version=2", "", "Bearer k1"},
		{"GET", "/v1/orders/o-2", "", "Bearer k1"},
		{"GET", "/v1/orders/bad-json?min_version=2", "", "Bearer k1"},
		{"POST", "/v1/orders/o-1/ship", `{"carrier":"DHL","tracking_number":"T1"}`, "Bearer k1"},
		{"POST", "/v1/orders/o-1/deliver", "", "Bearer k1"},
		{"POST", "/v1/orders/x/cancel", `{"reason":"why"}`, "Bearer k1"},
	}
	if len(calls) != len(want) {
		t.Fatalf("calls %+v", calls)
	}
	for i, c := range calls {
		w := want[i]
		if i == 1 { // the order's body, decoded
			var body placeRequest
			if err := json.Unmarshal([]byte(c.body), &body); err != nil || len(body.Items) != 2 || body.Items[1].SKU != "B" ||
				body.PaymentMethod != tokenDecline || body.Currency != "EUR" || body.ShippingAddress.Country != "GB" {
				t.Errorf("place body %s (%v)", c.body, err)
			}
			c.body = ""
		}
		if c != w {
			t.Errorf("call %d = %+v, want %+v", i, c, w)
		}
	}
}

// No order id in a 2xx, no server, a context already ended: errors that
// count as what they are.
func TestHTTPTargetFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{}`)
	}))
	h := NewHTTPTarget(srv.URL, "", 1)
	if _, err := h.Place(context.Background(), Placement{SKUs: []string{"A"}}); err == nil || !strings.Contains(err.Error(), "no order_id") {
		t.Errorf("a 201 without an id: %v", err)
	}
	srv.Close()
	_, err := h.Place(context.Background(), Placement{SKUs: []string{"A"}})
	if err == nil || errorCode(err) != "transport" {
		t.Errorf("no server: %v (code %s)", err, errorCode(err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Deliver(ctx, "o"); errorCode(err) != "canceled" {
		t.Errorf("ended context: %v (code %s)", err, errorCode(err))
	}
	bad := NewHTTPTarget("http://127.0.0.1:1\x7f", "", 1)
	if err := bad.SetStock(context.Background(), "A", 1); err == nil {
		t.Error("an unparsable base URL: no error")
	}
}
