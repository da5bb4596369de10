package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestCrashMidBurstLosesNothing kills the real binary with SIGKILL in the
// middle of a bounded burst of orders, restarts it on the same data, and
// checks: every order that got a 201 is in the event store and the read
// model exactly once; no rejected order is anywhere.
func TestCrashMidBurstLosesNothing(t *testing.T) {
	eachStoreBinary(t, func(t *testing.T, store string, b *storeBinary) {
		base := b.base
		p := b.start(t)

		const total, workers, killAfter = 400, 8, 120
		customer, badCustomer := "crash-"+uuid.NewString(), "crash-bad-"+uuid.NewString()
		var (
			mu                  sync.Mutex
			accepted            []string
			rejected, transport atomic.Int64
			killOnce            sync.Once
			client              = &http.Client{Timeout: 10 * time.Second}
		)
		inParallel(workers, total, func(n int) {
			body := newOrder(customer)
			if n%7 == 0 { // invalid: must never be written
				body = newOrder(badCustomer)
				body["items"] = []map[string]any{{"sku": "X", "quantity": 0, "unit_price": 1}}
			}
			payload, _ := json.Marshal(body)
			res, err := client.Post(base+"/v1/orders", "application/json", bytes.NewReader(payload))
			if err != nil {
				transport.Add(1)
				return
			}
			var created orderBody
			_ = json.NewDecoder(res.Body).Decode(&created)
			res.Body.Close()
			switch res.StatusCode {
			case http.StatusCreated:
				mu.Lock()
				accepted = append(accepted, created.OrderID)
				if len(accepted) == killAfter {
					killOnce.Do(func() { _ = p.cmd.Process.Signal(syscall.SIGKILL) })
				}
				mu.Unlock()
			default:
				rejected.Add(1)
			}
		})
		p.waitKilled(t)

		p2 := b.start(t)

		for _, id := range accepted {
			var events []struct{ Type string }
			r := do(t, "GET", base+"/v1/orders/"+id+"/events", nil)
			expectStatus(t, r, http.StatusOK)
			r.json(t, &events)
			// Checkout (no stock was set) may since have cancelled it.
			if len(events) == 0 || len(events) > 2 || events[0].Type != "order.placed.v2" {
				t.Fatalf("order %s: events %+v", id, events)
			}
		}
		// The read model catches up from the outbox and the broker, which
		// resume where the killed process left them.
		restarted := time.Now()
		for _, id := range accepted {
			waitFor(t, 60*time.Second, "order "+id+" in the read model", func() bool {
				return do(t, "GET", base+"/v1/orders/"+id, nil).status == http.StatusOK
			})
		}
		recovery := time.Since(restarted)
		// Every checkout the crash interrupted resumes and finishes.
		for _, id := range accepted {
			if c := waitCheckout(t, base, id, "cancelled"); c.Reason != "out_of_stock: SKU-RED-MUG, SKU-TEA" {
				t.Fatalf("order %s: checkout %+v", id, c)
			}
		}
		seen := listAll(t, base, customer)
		lost, twice := 0, 0
		for _, id := range accepted {
			switch seen[id] {
			case 0:
				lost++
			case 1:
			default:
				twice++
			}
		}
		unacknowledged := len(seen) - len(accepted) // committed, but the reply died with the process
		if bad := listAll(t, base, badCustomer); len(bad) != 0 {
			t.Fatalf("%d rejected orders were written", len(bad))
		}
		t.Logf("%s: accepted %d, rejected %d, transport errors %d, lost %d, twice %d, committed without reply %d, read model caught up %s after restart",
			store, len(accepted), rejected.Load(), transport.Load(), lost, twice, unacknowledged, recovery.Round(time.Millisecond))
		if len(accepted) < killAfter || lost != 0 || twice != 0 || unacknowledged < 0 || int64(unacknowledged) > transport.Load() {
			t.Fatalf("crash broke the guarantees")
		}

		// A graceful stop drains and exits 0.
		if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-p2.done:
			if err != nil {
				t.Fatalf("SIGTERM exit: %v\n%s", err, p2.out)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("did not stop within 30s of SIGTERM")
		}
	})
}

// listAll pages through a customer's orders and counts each id.
func listAll(t *testing.T, base, customer string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	eachListed(t, base, customer, func(o orderBody) { seen[o.OrderID]++ })
	return seen
}

// eachListed pages through a customer's orders, calling fn with each order
// listed, in the order the API lists them.
func eachListed(t *testing.T, base, customer string, fn func(orderBody)) {
	t.Helper()
	cursor := ""
	for {
		var page struct {
			Items      []orderBody `json:"items"`
			NextCursor *string     `json:"next_cursor"`
		}
		r := do(t, "GET", base+"/v1/orders?limit=100&customer_id="+customer+"&cursor="+cursor, nil)
		expectStatus(t, r, http.StatusOK)
		r.json(t, &page)
		for _, it := range page.Items {
			fn(it)
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			return
		}
		cursor = *page.NextCursor
	}
}
