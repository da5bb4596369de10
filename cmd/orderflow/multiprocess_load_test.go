package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// plannedOrder is one order of the load and what happened to it.
type plannedOrder struct {
	id string
	// steps are the commands sent after placing it, in order.
	steps []string
	// done counts the steps that answered 200.
	done int
	// uncertain: a command's reply was lost (the process died mid-request),
	// so it may or may not have taken effect.
	uncertain bool
	// refused holds an unexpected answer, which the test reports.
	refused string
}

// wantVersion is the stream version the acknowledged commands make.
func (o *plannedOrder) wantVersion() int64 { return int64(1 + o.done) }

// wantStatus is the status after the acknowledged commands.
func (o *plannedOrder) wantStatus() string {
	if o.done == 0 {
		return "placed"
	}
	return map[string]string{"confirm": "confirmed", "cancel": "cancelled", "ship": "shipped", "deliver": "delivered"}[o.steps[o.done-1]]
}

// plans cycle through the lifecycles the load exercises.
// Orders are confirmed by the checkout saga, which these processes do not
// run, so the commands a client can send are the cancellation.
var plans = [][]string{
	{},
	{"cancel"},
}

// cluster is the set of API base URLs that are up, for the load to spread
// requests over.
type cluster struct {
	mu    sync.Mutex
	bases []string
	up    []bool
}

func (c *cluster) pick(n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.bases {
		j := (n + i) % len(c.bases)
		if c.up[j] {
			return c.bases[j]
		}
	}
	return c.bases[n%len(c.bases)]
}

func (c *cluster) setUp(i int, up bool) {
	c.mu.Lock()
	c.up[i] = up
	c.mu.Unlock()
}

// loadResult is what the load saw.
type loadResult struct {
	accepted        []*plannedOrder
	placeLost       int64 // POSTs whose reply never came: maybe committed
	placeRefused    int64
	commandsOK      int64
	commandsUnknown int64
}

// runLoad places total orders from workers goroutines, spread over the
// cluster, and walks each through its plan. onAccepted runs (under the
// result's lock) after each accepted order, with the count so far.
func runLoad(c *cluster, customer string, total, workers int, onAccepted func(n int)) *loadResult {
	client := &http.Client{Timeout: 10 * time.Second}
	res := &loadResult{}
	var mu sync.Mutex
	var next, placeLost, placeRefused, commandsOK, commandsUnknown atomic.Int64
	post := func(n int, path string, body any) (int, []byte, error) {
		b, _ := json.Marshal(body)
		r, err := client.Post(c.pick(n)+path, "application/json", bytes.NewReader(b))
		if err != nil {
			return 0, nil, err
		}
		defer r.Body.Close()
		out, err := io.ReadAll(r.Body)
		return r.StatusCode, out, err
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1))
				if n > total {
					return
				}
				status, body, err := post(n, "/v1/orders", newOrder(customer))
				if err != nil {
					placeLost.Add(1)
					continue
				}
				if status != http.StatusCreated {
					placeRefused.Add(1)
					continue
				}
				var created orderBody
				_ = json.Unmarshal(body, &created)
				o := &plannedOrder{id: created.OrderID, steps: plans[n%len(plans)]}
				mu.Lock()
				res.accepted = append(res.accepted, o)
				if onAccepted != nil {
					onAccepted(len(res.accepted))
				}
				mu.Unlock()
				for k, step := range o.steps {
					var payload any = map[string]any{}
					switch step {
					case "cancel":
						payload = map[string]any{"reason": "load test"}
					case "ship":
						payload = map[string]any{"carrier": "DHL", "tracking_number": fmt.Sprintf("JD%08d", n)}
					}
					status, body, err := post(n+k+1, "/v1/orders/"+o.id+"/"+step, payload)
					if err != nil {
						o.uncertain = true
						commandsUnknown.Add(1)
						break
					}
					if status != http.StatusOK {
						o.refused = fmt.Sprintf("%s: %d %s", step, status, body)
						break
					}
					o.done++
					commandsOK.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.placeLost, res.placeRefused = placeLost.Load(), placeRefused.Load()
	res.commandsOK, res.commandsUnknown = commandsOK.Load(), commandsUnknown.Load()
	return res
}
