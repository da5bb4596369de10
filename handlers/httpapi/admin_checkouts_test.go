package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/ports"
)

func parkedCheckout() ports.Checkout {
	return ports.Checkout{OrderID: orderID, State: "parked", Reason: "parked: 10 attempts failed", ResumeState: "authorizing",
		StartedAt: parkedAt, DeadlineAt: parkedAt, UpdatedAt: parkedAt, Steps: []ports.CheckoutStep{}, Compensations: []ports.CheckoutStep{}}
}

func TestListParkedCheckouts(t *testing.T) {
	e := newEnv(t)
	e.app.listCheckouts.Result = query.CheckoutPage{Items: []ports.Checkout{parkedCheckout()}, NextAfter: orderID}
	rec := e.do(t, http.MethodGet, "/v1/admin/checkouts?limit=1", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if calls := e.app.listCheckouts.Calls(); len(calls) != 1 || calls[0] != (query.ListCheckouts{State: "parked", Limit: 1}) {
		t.Fatalf("calls %+v; want the parked ones by default", calls)
	}
	body := decodeJSON[map[string]any](t, rec)
	items := body["items"].([]any)
	if len(items) != 1 || body["next_after"] != orderID || items[0].(map[string]any)["resume_state"] != "authorizing" {
		t.Fatalf("body %v", body)
	}
}

func TestResumeCheckout(t *testing.T) {
	e := newEnv(t)
	resumed := parkedCheckout()
	resumed.State, resumed.ResumeState = "authorizing", ""
	e.app.resumeCheckouts.Result = command.Resumed{Checkouts: []ports.Checkout{resumed}}
	rec := e.do(t, http.MethodPost, "/v1/admin/checkouts/"+orderID+"/resume", "")
	if rec.Code != http.StatusOK || decodeJSON[map[string]any](t, rec)["state"] != "authorizing" {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if calls := e.app.resumeCheckouts.Calls(); len(calls) != 1 ||
		calls[0] != (command.ResumeCheckouts{OrderID: orderID, Operator: "api"}) {
		t.Fatalf("calls %+v", calls)
	}

	e.app.resumeCheckouts.Err = apperr.New(apperr.Conflict, "the checkout is confirmed, not parked")
	if rec := e.do(t, http.MethodPost, "/v1/admin/checkouts/"+orderID+"/resume", ""); rec.Code != http.StatusConflict {
		t.Fatalf("resuming a checkout that is not parked: status %d", rec.Code)
	}
}
