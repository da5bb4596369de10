package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/service"
)

func storeArgs(cfg service.Config) []string {
	if cfg.Embedded() {
		return []string{"--data-dir", cfg.DataDir}
	}
	return []string{"--postgres-url", cfg.PostgresURL}
}

// placeOrders places n orders and moves some along; it returns their ids
// and latest versions.
func placeOrders(t *testing.T, base, customer string, n int) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for i := range n {
		r := do(t, "POST", base+"/v1/orders", newOrder(customer))
		expectStatus(t, r, http.StatusCreated)
		var o orderBody
		r.json(t, &o)
		out[o.OrderID] = 1
		if i%2 == 0 {
			expectStatus(t, do(t, "POST", base+"/v1/orders/"+o.OrderID+"/cancel", map[string]string{"reason": "r"}), http.StatusOK)
			out[o.OrderID] = 2
		}
	}
	return out
}

// startWithOrders runs the service on cfg without the checkout saga, places
// n orders for customer (see placeOrders) and waits until the read model has
// them.
func startWithOrders(t *testing.T, cfg service.Config, customer string, n int) (*service.Main, string, map[string]int64) {
	t.Helper()
	m, base := startMain(t, withoutSaga(cfg))
	orders := placeOrders(t, base, customer, n)
	waitProjected(t, base, orders)
	return m, base, orders
}

func waitProjected(t *testing.T, base string, orders map[string]int64) {
	t.Helper()
	for id, v := range orders {
		waitFor(t, 30*time.Second, "order "+id+" projected", func() bool {
			return do(t, "GET", fmt.Sprintf("%s/v1/orders/%s?min_version=%d", base, id, v), nil).status == http.StatusOK
		})
	}
}

// allRows lists every row of a read model, newest first.
func allRows(t *testing.T, s ports.OrderSummaryReader) []ports.OrderSummary {
	t.Helper()
	var out []ports.OrderSummary
	f := ports.OrderFilter{Limit: 100}
	for {
		page, err := s.List(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		f.Cursor = page.NextCursor
	}
}

// `orderflow replay` rebuilds order_summary while the service keeps serving
// reads from the live table and taking writes; the swapped-in table equals a
// fresh projection of every event, and repairs a corrupted row.
func TestReplayRebuildsWithoutDowntime(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			cfg := s.config(t)
			m, base, orders := startWithOrders(t, cfg, "replay", 60)

			// A projection bug wrote a wrong status: the rebuild must fix it.
			var victim string
			for id := range orders {
				victim = id
				break
			}
			row, err := m.Adapters().Orders.Get(t.Context(), victim)
			if err != nil {
				t.Fatal(err)
			}
			good := row.Status
			row.Status = "corrupted"
			if err := m.Adapters().Orders.Save(t.Context(), row, row.Version); err != nil {
				t.Fatal(err)
			}

			// Readers and a writer keep going for the whole replay.
			ctx, stop := context.WithCancel(t.Context())
			var (
				wg      sync.WaitGroup
				reads   atomic.Int64
				failed  = make(chan string, 8)
				written = map[string]int64{}
				mu      sync.Mutex
			)
			for range 3 {
				wg.Go(func() {
					for ctx.Err() == nil {
						res, err := http.Get(base + "/v1/orders/" + victim)
						if err != nil {
							failed <- err.Error()
							return
						}
						res.Body.Close()
						if res.StatusCode != http.StatusOK {
							failed <- fmt.Sprintf("GET during replay: %d", res.StatusCode)
							return
						}
						reads.Add(1)
					}
				})
			}
			wg.Go(func() {
				for ctx.Err() == nil {
					res, err := http.Post(base+"/v1/orders", "application/json",
						strings.NewReader(`{"customer_id":"during","currency":"EUR","items":[{"sku":"A","quantity":1,"unit_price":1}],`+
							`"shipping_address":{"name":"A","line1":"B","city":"C","postal_code":"1","country":"DE"},"payment_method":"tok"}`))
					if err != nil {
						failed <- err.Error()
						return
					}
					var o orderBody
					if res.StatusCode == http.StatusCreated {
						_ = decodeJSON(res, &o)
						mu.Lock()
						written[o.OrderID] = 1
						mu.Unlock()
					}
					res.Body.Close()
				}
			})

			var stdout, stderr bytes.Buffer
			err = orderflow(t.Context(), append([]string{"replay", "--projection", "order_summary", "--batch-size", "25"},
				storeArgs(cfg)...), &stdout, &stderr)
			stop()
			wg.Wait()
			close(failed)
			if err != nil {
				t.Fatalf("replay: %v\n%s", err, stderr.String())
			}
			for f := range failed {
				t.Fatalf("the service failed during the replay: %s", f)
			}
			if reads.Load() == 0 {
				t.Fatal("no read ran during the replay")
			}
			if !strings.Contains(stdout.String(), "order_summary rebuilt from") {
				t.Fatalf("replay output: %q", stdout.String())
			}
			t.Logf("%s; %d reads and %d writes during it", strings.TrimSpace(stdout.String()), reads.Load(), len(written))

			if got, err := m.Adapters().Orders.Get(t.Context(), victim); err != nil || got.Status != good {
				t.Fatalf("corrupted row after replay: %+v, %v; want status %s", got, err, good)
			}
			waitProjected(t, base, written)

			// A fresh projection of every event, in a new shadow table.
			fresh, err := m.Adapters().Shadow.Shadow(t.Context(), true)
			if err != nil {
				t.Fatal(err)
			}
			p := projection.NewOrderSummary(fresh, m.Adapters().Events)
			var pos ports.Position
			for {
				batch, err := m.Adapters().Events.ReadAll(t.Context(), pos, 500)
				if err != nil {
					t.Fatal(err)
				}
				if len(batch) == 0 {
					break
				}
				for _, e := range batch {
					if err := p.Handle(t.Context(), e); err != nil {
						t.Fatal(err)
					}
					pos = e.Position
				}
			}
			live, want := allRows(t, m.Adapters().Orders), allRows(t, fresh)
			if len(live) != len(orders)+len(written) || !reflect.DeepEqual(live, want) {
				t.Fatalf("live table after replay (%d rows) differs from a fresh projection (%d rows)", len(live), len(want))
			}
		})
	}
}

func decodeJSON(res *http.Response, v any) error {
	return json.NewDecoder(res.Body).Decode(v)
}

// The lag gauges fall to 0 once the projection has applied every event.
func TestProjectionLagMetrics(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			m, base := startMain(t, withoutSaga(s.config(t)))
			waitProjected(t, base, placeOrders(t, base, "lag", 3))
			// Behind: the checkpoint is unknown to the store until the
			// projector records it; the gauges must reach 0 and stay sane.
			waitFor(t, 30*time.Second, "lag 0", func() bool {
				body := string(do(t, "GET", base+"/metrics", nil).body)
				return strings.Contains(body, `orderflow_projection_lag_events{projection="order_summary"} 0`) &&
					strings.Contains(body, `orderflow_projection_lag_seconds{projection="order_summary"} 0`)
			})
			pos, err := m.Adapters().Checkpoints.Checkpoint(t.Context(), projection.OrderSummaryName)
			if err != nil || pos == (ports.Position{}) {
				t.Fatalf("checkpoint %v, %v", pos, err)
			}
		})
	}
}
