package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/domain/order"
)

// TestTransportErrors: requests the HTTP layer refuses, and that therefore
// never reach a use case.
func TestTransportErrors(t *testing.T) {
	big := `{"customer_id": "` + strings.Repeat("x", 1<<20) + `"}`
	tests := []struct {
		name       string
		path       string
		body       string
		header     []string
		wantStatus int
		wantType   string
		wantFields []string
	}{
		{name: "no body", path: "/v1/orders", wantStatus: 400, wantType: "malformed_request"},
		{name: "blank body", path: "/v1/orders", body: " \n", wantStatus: 400, wantType: "malformed_request"},
		{name: "not JSON", path: "/v1/orders", body: "hello", wantStatus: 400, wantType: "malformed_request"},
		{name: "truncated JSON", path: "/v1/orders", body: `{"customer_id": "c`, wantStatus: 400, wantType: "malformed_request"},
		{name: "second value", path: "/v1/orders", body: `{} {}`, wantStatus: 400, wantType: "malformed_request"},
		{name: "trailing garbage", path: "/v1/orders", body: `{}x`, wantStatus: 400, wantType: "malformed_request"},
		{name: "array", path: "/v1/orders", body: `[]`, wantStatus: 400, wantType: "malformed_request"},
		{name: "string", path: "/v1/orders", body: `"order"`, wantStatus: 400, wantType: "malformed_request"},
		{name: "unknown fields", path: "/v1/orders",
			body:       `{"customer_id": "c", "coupon": "X", "items": [{"sku": "A", "colour": "red"}], "shipping_address": {"zip": "1"}}`,
			wantStatus: 400, wantType: "malformed_request",
			wantFields: []string{"coupon: is not a known field", "items[0].colour: is not a known field", "shipping_address.zip: is not a known field"}},
		{name: "field names are case-sensitive", path: "/v1/orders", body: `{"Customer_ID": "c"}`,
			wantStatus: 400, wantType: "malformed_request", wantFields: []string{"Customer_ID: is not a known field"}},
		{name: "unknown beats wrong type", path: "/v1/orders", body: `{"currency": 1, "x": 1}`,
			wantStatus: 400, wantType: "malformed_request", wantFields: []string{"x: is not a known field"}},
		{name: "wrong types", path: "/v1/orders",
			body:       `{"customer_id": 42, "items": [{"sku": "A", "quantity": "3", "unit_price": 1.5}, {"quantity": 1e3}], "shipping_address": []}`,
			wantStatus: 422, wantType: "invalid",
			wantFields: []string{
				"customer_id: must be a string",
				"items[0].quantity: must be an integer",
				"items[0].unit_price: must be an integer between -9223372036854775808 and 9223372036854775807",
				"items[1].quantity: must be an integer between -9223372036854775808 and 9223372036854775807",
				"shipping_address: must be an object",
			}},
		{name: "items not an array", path: "/v1/orders", body: `{"items": {"sku": "A"}}`,
			wantStatus: 422, wantType: "invalid", wantFields: []string{"items: must be an array"}},
		{name: "integer overflow", path: "/v1/orders", body: `{"items": [{"quantity": 9223372036854775808}]}`,
			wantStatus: 422, wantType: "invalid",
			wantFields: []string{"items[0].quantity: must be an integer between -9223372036854775808 and 9223372036854775807"}},
		{name: "text/plain", path: "/v1/orders", body: validOrder, header: []string{"Content-Type", "text/plain"},
			wantStatus: 415, wantType: "unsupported_media_type"},
		{name: "no Content-Type", path: "/v1/orders", body: validOrder, header: []string{"Content-Type", ""},
			wantStatus: 415, wantType: "unsupported_media_type"},
		{name: "other charset", path: "/v1/orders", body: validOrder, header: []string{"Content-Type", "application/json; charset=latin1"},
			wantStatus: 415, wantType: "unsupported_media_type"},
		{name: "form", path: "/v1/orders", body: "customer_id=c", header: []string{"Content-Type", "application/x-www-form-urlencoded"},
			wantStatus: 415, wantType: "unsupported_media_type"},
		{name: "too large", path: "/v1/orders", body: big, wantStatus: 413, wantType: "payload_too_large"},
		{name: "too large, wrong type", path: "/v1/orders", body: big, header: []string{"Content-Type", "text/plain"},
			wantStatus: 415, wantType: "unsupported_media_type"},
		{name: "confirm with a field", path: "/v1/orders/" + orderID + "/confirm", body: `{"force": true}`,
			wantStatus: 400, wantType: "malformed_request", wantFields: []string{"force: is not a known field"}},
		{name: "confirm with text", path: "/v1/orders/" + orderID + "/confirm", body: `{}`, header: []string{"Content-Type", "text/plain"},
			wantStatus: 415, wantType: "unsupported_media_type"},
		{name: "deliver with an array", path: "/v1/orders/" + orderID + "/deliver", body: `[]`,
			wantStatus: 400, wantType: "malformed_request"},
		{name: "cancel without body", path: "/v1/orders/" + orderID + "/cancel",
			wantStatus: 400, wantType: "malformed_request"},
		{name: "cancel reason not a string", path: "/v1/orders/" + orderID + "/cancel", body: `{"reason": ["a"]}`,
			wantStatus: 422, wantType: "invalid", wantFields: []string{"reason: must be a string"}},
		{name: "ship trailing data", path: "/v1/orders/" + orderID + "/ship", body: `{"carrier": "DHL", "tracking_number": "1"}]`,
			wantStatus: 400, wantType: "malformed_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(t, http.MethodPost, tt.path, tt.body, tt.header...)
			p := problemOf(t, rec)
			if rec.Code != tt.wantStatus || p.Type != "urn:orderflow:problem:"+tt.wantType {
				t.Fatalf("status %d, problem %+v", rec.Code, p)
			}
			if got := p.fields(); !reflect.DeepEqual(got, append([]string{}, tt.wantFields...)) {
				t.Errorf("errors\n got %q\nwant %q", got, tt.wantFields)
			}
			if n := e.app.callCount(); n != 0 {
				t.Errorf("a request refused at the transport level made %d use-case calls", n)
			}
		})
	}
}

// TestTooLargeChunked: a body of unknown length is cut off at 1 MiB too.
func TestTooLargeChunked(t *testing.T) {
	e := newEnv(t)
	body := io.MultiReader(strings.NewReader(`{"customer_id": "`), strings.NewReader(strings.Repeat("x", 1<<20)), strings.NewReader(`"}`))
	req := httptest.NewRequest(http.MethodPost, "/v1/orders", io.NopCloser(body))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	rec := e.serve(t, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	if n := e.app.callCount(); n != 0 {
		t.Errorf("%d use-case calls", n)
	}
}

// TestBodiesAccepted: the forms of a body that reach the command.
func TestBodiesAccepted(t *testing.T) {
	confirmed := command.Result{OrderID: orderID, Status: order.StatusConfirmed, Version: 2}
	tests := []struct {
		name   string
		path   string
		body   string
		header []string
	}{
		{name: "charset utf-8", path: "/v1/orders", body: validOrder, header: []string{"Content-Type", "application/json; charset=UTF-8"}},
		{name: "deliver without body or Content-Type", path: "/v1/orders/" + orderID + "/deliver"},
		{name: "deliver with {}", path: "/v1/orders/" + orderID + "/deliver", body: "{}"},
		{name: "deliver with {} and whitespace", path: "/v1/orders/" + orderID + "/deliver", body: " {}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.app.place.Run = placed
			e.app.answer(confirmed, nil)
			rec := e.do(t, http.MethodPost, tt.path, tt.body, tt.header...)
			if rec.Code >= 300 {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			if n := e.app.callCount(); n != 1 {
				t.Errorf("%d use-case calls, want 1", n)
			}
		})
	}
}

// TestNullIsAbsent: JSON null leaves a field empty for the domain to judge.
func TestNullIsAbsent(t *testing.T) {
	e := newEnv(t)
	e.app.cancel.Result = command.Result{OrderID: orderID, Status: order.StatusCancelled, Version: 2}
	rec := e.serve(t, func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/orders/"+orderID+"/cancel", strings.NewReader(`{"reason": null}`))
		r.Header.Set("Content-Type", "application/json")
		return r
	}())
	if rec.Code != 200 {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	if calls := e.app.cancel.Calls(); len(calls) != 1 || calls[0].Reason != "" {
		t.Errorf("calls %+v", calls)
	}
}
