package httpapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/handlers/httpapi"
	"github.com/orderflow/orderflow/ports"
)

var (
	created = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	updated = time.Date(2025, 3, 2, 9, 30, 0, 500, time.FixedZone("CET", 3600))
)

func summary(version int64) ports.OrderSummary {
	return ports.OrderSummary{
		OrderID: orderID, CustomerID: "cust-42", Status: "placed",
		Items: []ports.OrderLine{{SKU: "MUG-RED", Quantity: 2, UnitPrice: 1299}},
		Total: 2598, Currency: "EUR", Version: version, CreatedAt: created, UpdatedAt: updated,
	}
}

func TestGetOrder(t *testing.T) {
	e := newEnv(t)
	e.app.get.Result = query.OrderView{OrderSummary: summary(3)}
	rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID, "")
	if rec.Code != 200 {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("ETag"); got != `"3"` {
		t.Errorf("ETag = %q", got)
	}
	if got := rec.Header().Values("Orderflow-Stale"); got != nil {
		t.Errorf("Orderflow-Stale = %q on a fresh read", got)
	}
	want := `{"order_id":"` + orderID + `","customer_id":"cust-42","status":"placed",` +
		`"items":[{"sku":"MUG-RED","quantity":2,"unit_price":1299}],"total":{"amount":2598,"currency":"EUR"},` +
		`"version":3,"created_at":"2025-03-01T12:00:00Z","updated_at":"2025-03-02T08:30:00.0000005Z"}` + "\n"
	if rec.Body.String() != want {
		t.Errorf("body\n got %s\nwant %s", rec.Body, want)
	}
	if calls := e.app.get.Calls(); len(calls) != 1 || calls[0] != (query.GetOrder{OrderID: orderID}) {
		t.Errorf("calls %+v: without min_version the query must not wait", calls)
	}
}

func TestGetOrderOptionalFields(t *testing.T) {
	e := newEnv(t)
	s := summary(4)
	s.Status, s.Carrier, s.TrackingNumber, s.CancellationReason, s.Items = "shipped", "DHL", "JD0146", "", nil
	e.app.get.Result = query.OrderView{OrderSummary: s}
	body := decodeJSON[map[string]any](t, e.do(t, http.MethodGet, "/v1/orders/"+orderID, ""))
	if body["carrier"] != "DHL" || body["tracking_number"] != "JD0146" {
		t.Errorf("body %v", body)
	}
	if _, ok := body["cancellation_reason"]; ok {
		t.Error("an empty cancellation_reason is not omitted")
	}
	if items, ok := body["items"].([]any); !ok || len(items) != 0 {
		t.Errorf("items = %#v, want []", body["items"])
	}
}

func TestGetOrderConditional(t *testing.T) {
	tests := []struct {
		ifNoneMatch string
		want        int
	}{
		{`"3"`, 304},
		{`W/"3"`, 304},
		{`"1", "3"`, 304},
		{"*", 304},
		{`"2"`, 200},
		{`"33"`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.ifNoneMatch, func(t *testing.T) {
			e := newEnv(t)
			e.app.get.Result = query.OrderView{OrderSummary: summary(3)}
			rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID, "", "If-None-Match", tt.ifNoneMatch)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
			if got := rec.Header().Get("ETag"); got != `"3"` {
				t.Errorf("ETag = %q", got)
			}
			if tt.want == 304 && rec.Body.Len() != 0 {
				t.Errorf("304 with a body: %s", rec.Body)
			}
		})
	}
}

func TestGetOrderMinVersion(t *testing.T) {
	tests := []struct {
		name      string
		readWait  time.Duration
		target    string
		stale     bool
		wantQuery query.GetOrder
	}{
		{"default wait", 0, "?min_version=5", false, query.GetOrder{OrderID: orderID, MinVersion: 5, Wait: 2 * time.Second}},
		{"configured wait", 750 * time.Millisecond, "?min_version=5", false, query.GetOrder{OrderID: orderID, MinVersion: 5, Wait: 750 * time.Millisecond}},
		{"stale", 0, "?min_version=5", true, query.GetOrder{OrderID: orderID, MinVersion: 5, Wait: 2 * time.Second}},
		{"zero", 0, "?min_version=0", false, query.GetOrder{OrderID: orderID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *httpapi.Config) { c.ReadWait = tt.readWait })
			e.app.get.Result = query.OrderView{OrderSummary: summary(4), Stale: tt.stale}
			rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID+tt.target, "")
			if rec.Code != 200 {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			if calls := e.app.get.Calls(); len(calls) != 1 || calls[0] != tt.wantQuery {
				t.Errorf("calls %+v, want %+v", calls, tt.wantQuery)
			}
			wantStale := ""
			if tt.stale {
				wantStale = "true"
			}
			if got := rec.Header().Get("Orderflow-Stale"); got != wantStale {
				t.Errorf("Orderflow-Stale = %q, want %q", got, wantStale)
			}
			if got := rec.Header().Get("ETag"); got != `"4"` {
				t.Errorf("ETag = %q: it must name the version answered", got)
			}
		})
	}
}

func TestGetOrderErrors(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		err        error
		wantStatus int
		wantFields []string
	}{
		{"unknown", "", apperr.New(apperr.NotFound, "order not found"), 404, nil},
		{"read model down", "", apperr.Wrap(apperr.Unavailable, errors.New("conn reset"), "cannot read order"), 503, nil},
		{"min_version not a number", "?min_version=abc", nil, 422, []string{"min_version: must be an integer of at least 0"}},
		{"min_version negative", "?min_version=-1", nil, 422, []string{"min_version: must be an integer of at least 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.app.get.Err = tt.err
			rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID+tt.target, "")
			p := problemOf(t, rec)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, problem %+v", rec.Code, p)
			}
			if got := p.fields(); !reflect.DeepEqual(got, append([]string{}, tt.wantFields...)) {
				t.Errorf("errors %q, want %q", got, tt.wantFields)
			}
			if tt.err == nil && e.app.callCount() != 0 {
				t.Error("a bad query parameter reached the query")
			}
		})
	}
}

func TestListOrders(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		page       ports.OrderPage
		wantQuery  query.ListOrders
		wantCursor string
	}{
		{"defaults", "", ports.OrderPage{}, query.ListOrders{}, ""},
		{"filters", "?customer_id=cust-42&status=placed&limit=5&cursor=abc&unknown=1",
			ports.OrderPage{Items: []ports.OrderSummary{summary(1), summary(2)}, NextCursor: "next"},
			query.ListOrders{CustomerID: "cust-42", Status: "placed", Limit: 5, Cursor: "abc"}, "next"},
		{"limit capped", "?limit=100000", ports.OrderPage{}, query.ListOrders{Limit: 100}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.app.list.Result = tt.page
			rec := e.do(t, http.MethodGet, "/v1/orders"+tt.target, "")
			if rec.Code != 200 {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			if calls := e.app.list.Calls(); len(calls) != 1 || calls[0] != tt.wantQuery {
				t.Errorf("calls %+v, want %+v", calls, tt.wantQuery)
			}
			body := decodeJSON[map[string]json.RawMessage](t, rec)
			var items []map[string]any
			if err := json.Unmarshal(body["items"], &items); err != nil || items == nil || len(items) != len(tt.page.Items) {
				t.Errorf("items = %s", body["items"])
			}
			cursor, present := body["next_cursor"]
			switch {
			case tt.wantCursor == "" && present:
				t.Errorf("next_cursor = %s on the last page; it must be omitted", cursor)
			case tt.wantCursor != "" && string(cursor) != `"`+tt.wantCursor+`"`:
				t.Errorf("next_cursor = %s, want %q", cursor, tt.wantCursor)
			}
		})
	}
}

func TestListOrdersErrors(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		err        error
		wantFields []string
	}{
		{"limit zero", "?limit=0", nil, []string{"limit: must be an integer of at least 1"}},
		{"limit negative", "?limit=-3", nil, []string{"limit: must be an integer of at least 1"}},
		{"limit not a number", "?limit=ten", nil, []string{"limit: must be an integer of at least 1"}},
		{"bad cursor, from the query", "?cursor=zzz", &apperr.Error{Code: apperr.Invalid, Message: "invalid order listing",
			Fields: []apperr.FieldError{{Field: "cursor", Message: "is not a cursor this service issued"}}},
			[]string{"cursor: is not a cursor this service issued"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.app.list.Err = tt.err
			rec := e.do(t, http.MethodGet, "/v1/orders"+tt.target, "")
			if p := problemOf(t, rec); rec.Code != 422 || !reflect.DeepEqual(p.fields(), tt.wantFields) {
				t.Fatalf("status %d, problem %+v", rec.Code, p)
			}
			if tt.err == nil && e.app.callCount() != 0 {
				t.Error("a bad query parameter reached the query")
			}
		})
	}
}
