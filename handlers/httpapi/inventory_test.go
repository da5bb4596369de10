package httpapi_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/ports"
)

func TestPutStock(t *testing.T) {
	e := newEnv(t)
	e.app.setStock.Result = command.StockLevels{SKU: "MUG-RED", OnHand: 10, Reserved: 2, Available: 8}
	rec := e.do(t, http.MethodPut, "/v1/inventory/MUG-RED", `{"on_hand": 10}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if calls := e.app.setStock.Calls(); len(calls) != 1 || calls[0] != (command.SetStock{SKU: "MUG-RED", OnHand: 10}) {
		t.Fatalf("calls %+v", calls)
	}
	want := map[string]any{"sku": "MUG-RED", "on_hand": 10.0, "reserved": 2.0, "available": 8.0}
	if got := decodeJSON[map[string]any](t, rec); !reflect.DeepEqual(got, want) {
		t.Fatalf("body %v, want %v", got, want)
	}
}

func TestPutStockErrors(t *testing.T) {
	tests := []struct {
		name, body string
		err        error
		status     int
	}{
		{"missing on_hand", `{}`, nil, 422},
		{"unknown field", `{"on_hand": 1, "x": 2}`, nil, 400},
		{"below reserved", `{"on_hand": 1}`, apperr.New(apperr.Conflict, "2 units are reserved"), 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.app.setStock.Err = tt.err
			rec := e.do(t, http.MethodPut, "/v1/inventory/MUG-RED", tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			problemOf(t, rec)
		})
	}
}

func TestGetStock(t *testing.T) {
	e := newEnv(t)
	e.app.getStock.Result = command.StockLevels{SKU: "MUG-RED"}
	rec := e.do(t, http.MethodGet, "/v1/inventory/MUG-RED", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if calls := e.app.getStock.Calls(); len(calls) != 1 || calls[0] != (query.GetStock{SKU: "MUG-RED"}) {
		t.Fatalf("calls %+v", calls)
	}
}

func TestGetCheckout(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	e.app.checkout.Err = nil
	e.app.checkout.Result = ports.Checkout{OrderID: orderID, State: "cancelled", Reason: "payment_declined: card_declined",
		Steps:         []ports.CheckoutStep{{Step: "reserve_inventory", Status: "done", At: at}},
		Compensations: []ports.CheckoutStep{{Step: "release_inventory", Status: "done", At: at}},
		StartedAt:     at, DeadlineAt: at.Add(30 * time.Second), UpdatedAt: at, Version: 4}
	rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID+"/checkout", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := decodeJSON[map[string]any](t, rec)
	if body["state"] != "cancelled" || body["reason"] != "payment_declined: card_declined" ||
		len(body["steps"].([]any)) != 1 || len(body["compensations"].([]any)) != 1 {
		t.Fatalf("body %v", body)
	}
}

func TestGetCheckoutNotStarted(t *testing.T) {
	e := newEnv(t)
	rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID+"/checkout", "")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d", rec.Code)
	}
}

func TestGetOrderShowsFailedCheckout(t *testing.T) {
	e := newEnv(t)
	e.app.get.Result = query.OrderView{OrderSummary: ports.OrderSummary{OrderID: orderID, CustomerID: "c", Status: "cancelled",
		Items: []ports.OrderLine{{SKU: "A", Quantity: 1, UnitPrice: 1}}, Total: 1, Currency: "EUR", Version: 2,
		CreatedAt: time.Now(), UpdatedAt: time.Now(), CancellationReason: "out_of_stock: A"}}
	e.app.checkout.Err = nil
	e.app.checkout.Result = ports.Checkout{OrderID: orderID, State: "cancelled", Reason: "out_of_stock: A"}
	rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID, "")
	body := decodeJSON[map[string]any](t, rec)
	want := map[string]any{"state": "cancelled", "reason": "out_of_stock: A"}
	if rec.Code != 200 || !reflect.DeepEqual(body["checkout"], want) {
		t.Fatalf("status %d, checkout %v, want %v", rec.Code, body["checkout"], want)
	}
}

func TestConfirmIsRefusedBecauseCheckoutConfirms(t *testing.T) {
	e := newEnv(t)
	rec := e.do(t, http.MethodPost, "/v1/orders/"+orderID+"/confirm", "", "If-Match", `"1"`)
	if p := problemOf(t, rec); rec.Code != http.StatusConflict || p.Type != "urn:orderflow:problem:conflict" {
		t.Fatalf("status %d, problem %+v", rec.Code, p)
	}
	if n := e.app.callCount(); n != 0 {
		t.Fatalf("%d use-case calls", n)
	}
}

func TestListNotifications(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	e.app.notes.Result = []ports.Notification{{ID: "e1", OrderID: orderID, Kind: "cancelled", Reason: "payment_timeout", At: at}}
	rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID+"/notifications", "")
	want := []any{map[string]any{"id": "e1", "kind": "cancelled", "reason": "payment_timeout", "at": "2026-11-27T10:00:00Z"}}
	if got := decodeJSON[[]any](t, rec); rec.Code != 200 || !reflect.DeepEqual(got, want) {
		t.Fatalf("status %d, body %v", rec.Code, got)
	}
}
