package httpapi_test

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/handlers/httpapi"
	"github.com/orderflow/orderflow/ports"
)

var parkedAt = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func parked(id string, md map[string]string) ports.PoisonedMessage {
	return ports.PoisonedMessage{ID: id, MessageID: "msg-" + id, Topic: "orderflow.order.events.v1",
		Handler: "orderflow.projection.order_summary.v1", Reason: "invalid: not an event", Payload: []byte("{}"),
		Metadata: md, FirstFailedAt: parkedAt, PoisonedAt: parkedAt.Add(time.Second)}
}

func TestListPoison(t *testing.T) {
	e := newEnv(t)
	e.app.listPoisoned.Result = query.PoisonPage{
		Items:     []ports.PoisonedMessage{parked("p1", map[string]string{"k": "v"}), parked("p2", nil)},
		NextAfter: "p2",
	}
	rec := e.do(t, http.MethodGet, "/v1/admin/poison?after=p0&limit=2", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if calls := e.app.listPoisoned.Calls(); len(calls) != 1 || calls[0] != (query.ListPoisoned{After: "p0", Limit: 2}) {
		t.Fatalf("calls %+v", calls)
	}
	body := decodeJSON[map[string]any](t, rec)
	items := body["items"].([]any)
	first, second := items[0].(map[string]any), items[1].(map[string]any)
	if len(items) != 2 || body["next_after"] != "p2" || first["id"] != "p1" || first["message_id"] != "msg-p1" ||
		first["payload"] != "e30=" || first["poisoned_at"] != "2026-11-27T10:00:01Z" ||
		!reflect.DeepEqual(first["metadata"], map[string]any{"k": "v"}) ||
		!reflect.DeepEqual(second["metadata"], map[string]any{}) {
		t.Fatalf("body %v", body)
	}
}

// The page size goes to the use case as asked, capped at the largest page;
// absent, the use case picks its default; below 1 it is refused.
func TestListPoisonLimit(t *testing.T) {
	for _, tc := range []struct {
		query     string
		status    int
		wantLimit int
	}{
		{"", http.StatusOK, 0},
		{"?limit=7", http.StatusOK, 7},
		{"?limit=100000", http.StatusOK, query.MaxPoisonPage},
		{"?limit=0", http.StatusUnprocessableEntity, -1},
		{"?limit=x", http.StatusUnprocessableEntity, -1},
	} {
		t.Run(tc.query, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(t, http.MethodGet, "/v1/admin/poison"+tc.query, "")
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			calls := e.app.listPoisoned.Calls()
			if tc.wantLimit < 0 {
				if len(calls) != 0 {
					t.Fatalf("an invalid query reached the use case: %+v", calls)
				}
				return
			}
			if len(calls) != 1 || calls[0].Limit != tc.wantLimit {
				t.Fatalf("calls %+v, want limit %d", calls, tc.wantLimit)
			}
			if body := decodeJSON[map[string]any](t, rec); fmt.Sprint(body["items"]) != "[]" || body["next_after"] != nil {
				t.Fatalf("empty page answered %v", body)
			}
		})
	}
}

func TestGetPoison(t *testing.T) {
	e := newEnv(t)
	e.app.getPoisoned.Result = parked("p1", nil)
	rec := e.do(t, http.MethodGet, "/v1/admin/poison/p1", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if calls := e.app.getPoisoned.Calls(); len(calls) != 1 || calls[0] != (query.GetPoisoned{ID: "p1"}) {
		t.Fatalf("calls %+v", calls)
	}
	if body := decodeJSON[map[string]any](t, rec); body["id"] != "p1" || body["reason"] != "invalid: not an event" {
		t.Fatalf("body %v", body)
	}

	e.app.getPoisoned.Err = fmt.Errorf("poison %s: %w", "nope", ports.ErrPoisonNotFound)
	if rec := e.do(t, http.MethodGet, "/v1/admin/poison/nope", ""); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown id: status %d: %s", rec.Code, rec.Body)
	}
}

func TestRequeuePoison(t *testing.T) {
	e := newEnv(t)
	e.app.requeuePoisoned.Result = parked("p1", nil)
	rec := e.do(t, http.MethodPost, "/v1/admin/poison/p1/requeue", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if calls := e.app.requeuePoisoned.Calls(); len(calls) != 1 || calls[0] != (command.RequeuePoisoned{ID: "p1"}) {
		t.Fatalf("calls %+v", calls)
	}
	if body := decodeJSON[map[string]any](t, rec); body["id"] != "p1" || body["topic"] != "orderflow.order.events.v1" {
		t.Fatalf("body %v", body)
	}
}

// DELETE drops the one message named, never the whole queue.
func TestDeletePoison(t *testing.T) {
	e := newEnv(t)
	e.app.purgePoisoned.Result = command.Purged{Count: 1}
	rec := e.do(t, http.MethodDelete, "/v1/admin/poison/p1", "")
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if calls := e.app.purgePoisoned.Calls(); len(calls) != 1 || calls[0] != (command.PurgePoisoned{ID: "p1"}) {
		t.Fatalf("calls %+v", calls)
	}
	e.app.purgePoisoned.Err = ports.ErrPoisonNotFound
	if rec := e.do(t, http.MethodDelete, "/v1/admin/poison/p1", ""); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown id: status %d: %s", rec.Code, rec.Body)
	}
}

// Without the admin use cases every poison endpoint answers 503; a service
// with a poison queue but no broker to requeue through answers 503 to
// requeue only.
func TestPoisonWithoutAdmin(t *testing.T) {
	requests := []struct{ method, target string }{
		{http.MethodGet, "/v1/admin/poison"},
		{http.MethodGet, "/v1/admin/poison/p1"},
		{http.MethodDelete, "/v1/admin/poison/p1"},
		{http.MethodPost, "/v1/admin/poison/p1/requeue"},
	}
	e := newEnv(t, func(c *httpapi.Config) { c.Admin = app.Admin{} })
	for _, r := range requests {
		if rec := e.do(t, r.method, r.target, ""); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s %s: status %d, want 503: %s", r.method, r.target, rec.Code, rec.Body)
		}
	}
	e = newEnv(t, func(c *httpapi.Config) { c.Admin.RequeuePoisoned = nil })
	e.app.getPoisoned.Result = parked("p1", nil)
	if rec := e.do(t, http.MethodPost, "/v1/admin/poison/p1/requeue", ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("requeue without a republisher: status %d, want 503", rec.Code)
	}
	if rec := e.do(t, http.MethodGet, "/v1/admin/poison/p1", ""); rec.Code != http.StatusOK {
		t.Errorf("show without a republisher: status %d, want 200", rec.Code)
	}
}
