package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/domain/order"
)

const validOrder = `{
  "customer_id": "cust-42",
  "currency": "EUR",
  "items": [{"sku": "MUG-RED", "quantity": 2, "unit_price": 1299}, {"sku": "TEA", "quantity": 1, "unit_price": 0}],
  "shipping_address": {"name": "Ada Lovelace", "line1": "12 St James's Square", "line2": "Flat 3",
    "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"},
  "payment_method": "pm_card_visa"
}`

const orderID = "0195a3c2-7b1e-7c3d-9f00-1a2b3c4d5e6f"

func placed(_ context.Context, c command.PlaceOrder) (command.Result, error) {
	return command.Result{OrderID: c.OrderID, Status: order.StatusPlaced, Version: 1, Total: 2598, Currency: c.Currency}, nil
}

func TestPlaceOrder(t *testing.T) {
	e := newEnv(t)
	e.app.place.Run = placed
	rec := e.do(t, http.MethodPost, "/v1/orders", validOrder, "X-Correlation-ID", "checkout-1", "X-Request-ID", "req-1")

	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	calls := e.app.place.Calls()
	if len(calls) != 1 {
		t.Fatalf("PlaceOrder called %d times", len(calls))
	}
	id, err := uuid.Parse(calls[0].OrderID)
	if err != nil || id.Version() != 7 {
		t.Errorf("order id %q is not a UUIDv7", calls[0].OrderID)
	}
	want := order.PlaceParams{
		OrderID:    calls[0].OrderID,
		CustomerID: "cust-42",
		Currency:   "EUR",
		Items:      []order.Item{{SKU: "MUG-RED", Quantity: 2, UnitPrice: 1299}, {SKU: "TEA", Quantity: 1}},
		ShippingAddress: order.Address{Name: "Ada Lovelace", Line1: "12 St James's Square", Line2: "Flat 3",
			City: "London", PostalCode: "SW1Y 4JH", Country: "GB"},
		PaymentMethod: "pm_card_visa",
	}
	if !reflect.DeepEqual(calls[0].PlaceParams, want) {
		t.Errorf("command\n got %+v\nwant %+v", calls[0].PlaceParams, want)
	}
	if got := e.app.place.LastIDs(); got != [2]string{"checkout-1", "req-1"} {
		t.Errorf("ids in the use case's context = %v", got)
	}
	if got := rec.Header().Get("Location"); got != "/v1/orders/"+calls[0].OrderID {
		t.Errorf("Location = %q", got)
	}
	if got := rec.Header().Get("ETag"); got != `"1"` {
		t.Errorf("ETag = %q", got)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	type money struct {
		Amount   int64
		Currency string
	}
	body := decodeJSON[struct {
		OrderID string `json:"order_id"`
		Status  string
		Version int64
		Total   money
	}](t, rec)
	if body.OrderID != calls[0].OrderID || body.Status != "placed" || body.Version != 1 || body.Total != (money{2598, "EUR"}) {
		t.Errorf("body %s", rec.Body)
	}
}

func TestPlaceOrderErrors(t *testing.T) {
	invalid := apperr.Validation("the order is invalid", []apperr.FieldError{
		{Field: "items[0].quantity", Message: "must be greater than 0"},
		{Field: "shipping_address.country", Message: "must be an ISO 3166-1 alpha-2 country code such as DE or US"},
	})
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantType   string
		wantFields []string
	}{
		{"invalid", invalid, 422, "invalid", []string{
			"items[0].quantity: must be greater than 0",
			"shipping_address.country: must be an ISO 3166-1 alpha-2 country code such as DE or US"}},
		{"conflict", apperr.New(apperr.Conflict, "order exists"), 409, "conflict", nil},
		{"unavailable", apperr.Wrap(apperr.Unavailable, errors.New("dial tcp: refused"), "cannot store order"), 503, "unavailable", nil},
		{"internal", errors.New("nil map write in repo"), 500, "internal", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.app.place.Err = tt.err
			rec := e.do(t, http.MethodPost, "/v1/orders", validOrder)
			p := problemOf(t, rec)
			if rec.Code != tt.wantStatus || p.Status != tt.wantStatus || p.Type != "urn:orderflow:problem:"+tt.wantType {
				t.Fatalf("status %d, problem %+v", rec.Code, p)
			}
			if got := p.fields(); !reflect.DeepEqual(got, append([]string{}, tt.wantFields...)) {
				t.Errorf("errors = %q, want %q", got, tt.wantFields)
			}
			if rec.Header().Get("Location") != "" || rec.Header().Get("ETag") != "" {
				t.Error("a refused order has a Location or ETag")
			}
		})
	}
}

// transitions are the POST /v1/orders/{id}/<action> endpoints, each with a
// valid body and the command it must produce (for If-Match 3).
var transitions = []struct {
	action string
	body   string
	calls  func(*fakeApp) []any
	want   any
}{
	{"cancel", `{"reason": "changed my mind"}`, func(f *fakeApp) []any { return anys(f.cancel.Calls()) },
		command.CancelOrder{OrderID: orderID, Reason: "changed my mind", IfMatch: 3}},
	{"ship", `{"carrier": "DHL", "tracking_number": "JD0146"}`, func(f *fakeApp) []any { return anys(f.ship.Calls()) },
		command.ShipOrder{OrderID: orderID, Carrier: "DHL", TrackingNumber: "JD0146", IfMatch: 3}},
	{"deliver", "{}", func(f *fakeApp) []any { return anys(f.deliver.Calls()) },
		command.DeliverOrder{OrderID: orderID, IfMatch: 3}},
}

func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// answer makes every transition command of f answer with res and err.
func (f *fakeApp) answer(res command.Result, err error) {
	f.confirm.Result, f.confirm.Err = res, err
	f.cancel.Result, f.cancel.Err = res, err
	f.ship.Result, f.ship.Err = res, err
	f.deliver.Result, f.deliver.Err = res, err
}

func TestTransitions(t *testing.T) {
	for _, tr := range transitions {
		t.Run(tr.action, func(t *testing.T) {
			e := newEnv(t)
			e.app.answer(command.Result{OrderID: orderID, Status: order.StatusConfirmed, Version: 4, Total: 10, Currency: "EUR"}, nil)
			// An upper-case id is the same UUID: the command gets the canonical form.
			rec := e.do(t, http.MethodPost, "/v1/orders/"+strings.ToUpper(orderID)+"/"+tr.action, tr.body, "If-Match", `"3"`)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			if calls := tr.calls(e.app); len(calls) != 1 || !reflect.DeepEqual(calls[0], tr.want) {
				t.Errorf("calls %+v, want %+v", calls, tr.want)
			}
			if got := rec.Header().Get("ETag"); got != `"4"` {
				t.Errorf("ETag = %q", got)
			}
			body := decodeJSON[map[string]any](t, rec)
			want := map[string]any{"order_id": orderID, "status": "confirmed", "version": 4.0}
			if !reflect.DeepEqual(body, want) {
				t.Errorf("body %v, want %v", body, want)
			}
		})
	}
}

func TestTransitionErrors(t *testing.T) {
	tests := []struct {
		err        error
		wantStatus int
		wantType   string
	}{
		{apperr.New(apperr.PreconditionFailed, "order is at version 5, not 3"), 412, "precondition_failed"},
		{apperr.New(apperr.Conflict, "cannot ship an order that is placed"), 409, "conflict"},
		{apperr.New(apperr.NotFound, "order not found"), 404, "not_found"},
		{apperr.Wrap(apperr.Unavailable, errors.New("timeout"), "cannot load order"), 503, "unavailable"},
	}
	for _, tr := range transitions {
		for _, tt := range tests {
			t.Run(tr.action+"/"+tt.wantType, func(t *testing.T) {
				e := newEnv(t)
				e.app.answer(command.Result{}, tt.err)
				rec := e.do(t, http.MethodPost, "/v1/orders/"+orderID+"/"+tr.action, tr.body, "If-Match", `"3"`)
				if p := problemOf(t, rec); rec.Code != tt.wantStatus || p.Type != "urn:orderflow:problem:"+tt.wantType {
					t.Fatalf("status %d, problem %+v", rec.Code, p)
				}
				if rec.Header().Get("ETag") != "" {
					t.Error("a refused command has an ETag")
				}
			})
		}
	}
	t.Run("cancel/invalid", func(t *testing.T) {
		e := newEnv(t)
		e.app.answer(command.Result{}, apperr.Validation("invalid cancellation", []apperr.FieldError{{Field: "reason", Message: "is required"}}))
		rec := e.do(t, http.MethodPost, "/v1/orders/"+orderID+"/cancel", `{"reason": " "}`)
		if p := problemOf(t, rec); rec.Code != 422 || !reflect.DeepEqual(p.fields(), []string{"reason: is required"}) {
			t.Fatalf("status %d, problem %+v", rec.Code, p)
		}
	})
}

func TestIfMatch(t *testing.T) {
	tests := []struct {
		name    string
		header  []string
		want    int64 // the command's IfMatch; -1: refused with 400
		comment string
	}{
		{"absent", nil, 0, ""},
		{"version", []string{"If-Match", `"12"`}, 12, ""},
		{"star", []string{"If-Match", "*"}, 0, "any version"},
		{"unquoted", []string{"If-Match", "12"}, -1, ""},
		{"weak", []string{"If-Match", `W/"12"`}, -1, "If-Match compares strongly"},
		{"zero", []string{"If-Match", `"0"`}, -1, "versions start at 1"},
		{"negative", []string{"If-Match", `"-1"`}, -1, ""},
		{"not a version", []string{"If-Match", `"abc"`}, -1, ""},
		{"list", []string{"If-Match", `"1", "2"`}, -1, ""},
		{"two headers", []string{"If-Match", `"1"`, "If-Match", `"2"`}, -1, ""},
		{"empty quotes", []string{"If-Match", `""`}, -1, ""},
		{"overflow", []string{"If-Match", `"99999999999999999999"`}, -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.app.answer(command.Result{OrderID: orderID, Status: order.StatusConfirmed, Version: 2}, nil)
			rec := e.do(t, http.MethodPost, "/v1/orders/"+orderID+"/deliver", "", tt.header...)
			calls := e.app.deliver.Calls()
			if tt.want < 0 {
				p := problemOf(t, rec)
				if rec.Code != 400 || p.Type != "urn:orderflow:problem:malformed_request" || len(p.Errors) != 1 || p.Errors[0].Field != "If-Match" {
					t.Fatalf("status %d, problem %+v", rec.Code, p)
				}
				if len(calls) != 0 {
					t.Error("a malformed If-Match reached the command")
				}
				return
			}
			if rec.Code != 200 || len(calls) != 1 || calls[0].IfMatch != tt.want {
				t.Fatalf("status %d, calls %+v, want IfMatch %d", rec.Code, calls, tt.want)
			}
		})
	}
}

func TestOrderIDMustBeUUID(t *testing.T) {
	for _, path := range []string{
		"/v1/orders/not-a-uuid", "/v1/orders/not-a-uuid/confirm", "/v1/orders/123/events", "/v1/orders/x/history?version=1",
	} {
		t.Run(path, func(t *testing.T) {
			e := newEnv(t)
			method := http.MethodGet
			if strings.HasSuffix(path, "/confirm") {
				method = http.MethodPost
			}
			rec := e.do(t, method, path, "")
			if p := problemOf(t, rec); rec.Code != 404 || p.Type != "urn:orderflow:problem:not_found" {
				t.Fatalf("status %d, problem %+v", rec.Code, p)
			}
			if n := e.app.callCount(); n != 0 {
				t.Errorf("%d use-case calls for an id that is not a UUID", n)
			}
		})
	}
}
