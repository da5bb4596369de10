package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/service"
)

// TestRolesSplitTheWork runs two processes' worth of the service on one
// database: one serves only the API, the other only moves and projects
// events. An order placed through the first reaches the read model through
// the second; the second answers probes and metrics but no API call.
func TestRolesSplitTheWork(t *testing.T) {
	pg := testenv.PostgresURL(t)
	api := service.Config{PostgresURL: pg}
	api.Roles = "api"
	_, apiBase := startMain(t, api)
	workers := service.Config{PostgresURL: pg}
	workers.Roles = "forwarder,projections,saga"
	_, workerBase := startMain(t, workers)

	for _, base := range []string{apiBase, workerBase} {
		expectStatus(t, do(t, "GET", base+"/readyz", nil), http.StatusOK)
	}
	expectStatus(t, do(t, "POST", workerBase+"/v1/orders", newOrder("roles")), http.StatusNotFound)

	customer := "roles-" + uuid.NewString()
	var ids []string
	for range 5 {
		r := do(t, "POST", apiBase+"/v1/orders", newOrder(customer))
		expectStatus(t, r, http.StatusCreated)
		var o orderBody
		r.json(t, &o)
		ids = append(ids, o.OrderID)
	}
	for _, id := range ids {
		waitFor(t, 30*time.Second, "order "+id+" in the read model", func() bool {
			o, r := getOrder(t, apiBase+"/v1/orders/"+id)
			return r.status == http.StatusOK && o.Version == 1
		})
	}
	if n := len(listAll(t, apiBase, customer)); n != len(ids) {
		t.Fatalf("listed %d orders, want %d", n, len(ids))
	}
	// The handlers ran in the worker only.
	const handled = "orderflow_router_handler_execution_time_seconds_count"
	projection := `handler_name="orderflow.projection.order_summary.v1"`
	// The router records a handler's execution after the handler returns,
	// a moment after its row is visible: wait for it.
	waitFor(t, 10*time.Second, "the worker's projection metric", func() bool {
		return metricValue(t, workerBase, handled, projection) >= float64(len(ids))
	})
	if n := metricValue(t, apiBase, handled); n != 0 {
		t.Fatalf("the api-only process ran %v handler executions, want none", n)
	}
}
