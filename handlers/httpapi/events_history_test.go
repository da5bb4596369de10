package httpapi_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/ports"
)

func TestOrderEvents(t *testing.T) {
	e := newEnv(t)
	e.app.events.Result = []ports.RecordedEvent{{
		Stream: ports.Stream{Type: "order", ID: orderID}, Version: 1, Position: ports.Position{Commit: 77, Prepare: 1187},
		Type: "order.placed.v1", Data: []byte(`{"order_id":"` + orderID + `","total":2598}`),
		Metadata:   ports.EventMetadata{EventID: "ev-1", CorrelationID: "checkout-1", CausationID: "req-1", OccurredAt: created},
		RecordedAt: updated,
	}}
	rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID+"/events", "")
	if rec.Code != 200 {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	want := `[{"event_id":"ev-1","type":"order.placed.v1","version":1,"position":1187,` +
		`"occurred_at":"2025-03-01T12:00:00Z","recorded_at":"2025-03-02T08:30:00.0000005Z",` +
		`"data":{"order_id":"` + orderID + `","total":2598},` +
		`"metadata":{"correlation_id":"checkout-1","causation_id":"req-1"}}]` + "\n"
	if rec.Body.String() != want {
		t.Errorf("body\n got %s\nwant %s", rec.Body, want)
	}
	if calls := e.app.events.Calls(); len(calls) != 1 || calls[0].OrderID != orderID {
		t.Errorf("calls %+v", calls)
	}

	e.app.events.Result, e.app.events.Err = nil, apperr.New(apperr.NotFound, "order not found")
	if rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID+"/events", ""); rec.Code != 404 {
		t.Errorf("unknown order: status %d", rec.Code)
	}
}

func TestOrderHistory(t *testing.T) {
	at := time.Date(2025, 3, 1, 13, 0, 0, 0, time.FixedZone("", 2*3600))
	tests := []struct {
		name       string
		target     string
		wantQuery  *query.OrderHistory
		wantFields []string
	}{
		{"version", "?version=2", &query.OrderHistory{OrderID: orderID, Version: 2}, nil},
		{"at", "?at=2025-03-01T13:00:00%2B02:00", &query.OrderHistory{OrderID: orderID, At: &at}, nil},
		{"at with fraction", "?at=2025-03-01T13:00:00.000%2B02:00", &query.OrderHistory{OrderID: orderID, At: &at}, nil},
		{"version zero", "?version=0", nil, []string{"version: must be an integer of at least 1"}},
		{"at not RFC 3339", "?at=yesterday", nil, []string{"at: must be an RFC 3339 date-time such as 2025-01-02T15:04:05Z"}},
		{"both bad", "?version=x&at=2025-03-01", nil, []string{
			"version: must be an integer of at least 1", "at: must be an RFC 3339 date-time such as 2025-01-02T15:04:05Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.app.history.Result = summary(2)
			rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID+"/history"+tt.target, "")
			calls := e.app.history.Calls()
			if tt.wantQuery == nil {
				if p := problemOf(t, rec); rec.Code != 422 || !reflect.DeepEqual(p.fields(), tt.wantFields) {
					t.Fatalf("status %d, problem %+v", rec.Code, p)
				}
				if len(calls) != 0 {
					t.Error("a bad query parameter reached the query")
				}
				return
			}
			if rec.Code != 200 || len(calls) != 1 || calls[0].Version != tt.wantQuery.Version ||
				(calls[0].At == nil) != (tt.wantQuery.At == nil) || calls[0].At != nil && !calls[0].At.Equal(*tt.wantQuery.At) {
				t.Fatalf("status %d, calls %+v, want %+v", rec.Code, calls, tt.wantQuery)
			}
			if body := decodeJSON[map[string]any](t, rec); body["version"] != 2.0 {
				t.Errorf("body %v", body)
			}
		})
	}
}
