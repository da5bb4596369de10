package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/paymentsandbox"
)

// The lifecycles of the load. Every order is paid with tok_visa against
// plenty of stock, so checkout confirms it unless the client cancels first.
const (
	planPlaceOnly = "place-only" // checkout confirms it
	planCancel    = "cancel"     // the client cancels, placed or confirmed
	planDeliver   = "deliver"    // once confirmed: shipped, then delivered
)

var plans = []string{planPlaceOnly, planCancel, planDeliver}

// plannedOrder is one accepted order of the load and what happened to it.
type plannedOrder struct {
	id   string
	plan string
	// done lists the commands that answered 200, in order.
	done []string
	// uncertain names a command whose reply was lost even after a retry
	// with the same Idempotency-Key: it may or may not have taken effect.
	uncertain string
	// refused holds an unexpected answer, which the test reports.
	refused string
}

// finalStatuses are the read model statuses o may legally end in: the one
// its acknowledged commands and the checkout make, and, if a command's reply
// was lost, the one that command makes.
func (o *plannedOrder) finalStatuses() []string {
	after := func(cmd string) string {
		return map[string]string{"": "confirmed", "cancel": "cancelled", "ship": "shipped", "deliver": "delivered"}[cmd]
	}
	last := ""
	if len(o.done) > 0 {
		last = o.done[len(o.done)-1]
	}
	want := []string{after(last)}
	if o.uncertain != "" {
		want = append(want, after(o.uncertain))
	}
	return want
}

// cluster is the set of API base URLs that are up, for the load to spread
// requests over.
type cluster struct {
	mu    sync.Mutex
	bases []string
	up    []bool
	// provider is the payment sandbox on the cluster's database, to check
	// checkouts against (nil: not checked).
	provider *paymentsandbox.Gateway
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
	mu              sync.Mutex
	accepted        []*plannedOrder
	placeLost       atomic.Int64 // POSTs whose reply never came, retries included: maybe committed
	retried         atomic.Int64 // requests repeated after a lost reply
	commandsOK      atomic.Int64
	commandsUnknown atomic.Int64
}

func (r *loadResult) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.accepted)
}

// loader sends the load's requests, each with an Idempotency-Key, and
// repeats a request whose reply was lost on the next process that is up.
type loader struct {
	c      *cluster
	client *http.Client
	res    *loadResult
}

func (l *loader) post(n int, path string, body any) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	key := uuid.NewString()
	var lastErr error
	for attempt := range 3 {
		if attempt > 0 {
			l.res.retried.Add(1)
		}
		req, err := http.NewRequest("POST", l.c.pick(n+attempt)+path, bytes.NewReader(b))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		r, err := l.client.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		out, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		if r.StatusCode == http.StatusConflict && attempt > 0 {
			// The key may still be held by the request the killed process
			// was serving: its outcome is unknown.
			return 0, nil, fmt.Errorf("retry answered %d %s", r.StatusCode, out)
		}
		return r.StatusCode, out, nil
	}
	return 0, nil, lastErr
}

// waitConfirmed polls the read model until the order is confirmed.
func (l *loader) waitConfirmed(n int, id string) error {
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := l.client.Get(l.c.pick(n) + "/v1/orders/" + id); err == nil {
			var o orderBody
			err = json.NewDecoder(r.Body).Decode(&o)
			r.Body.Close()
			if err == nil && o.Status == "confirmed" {
				return nil
			}
			if err == nil && o.Status == "cancelled" {
				return errors.New("checkout cancelled it: " + o.CancellationReason)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("not confirmed within 45s")
}

// run walks one accepted order through its plan.
func (l *loader) run(n int, o *plannedOrder) {
	var steps []string
	switch o.plan {
	case planCancel:
		steps = []string{"cancel"}
	case planDeliver:
		if err := l.waitConfirmed(n, o.id); err != nil {
			o.refused = err.Error()
			return
		}
		steps = []string{"ship", "deliver"}
	}
	for k, step := range steps {
		var payload any = map[string]any{}
		switch step {
		case "cancel":
			payload = map[string]any{"reason": "load test"}
		case "ship":
			payload = map[string]any{"carrier": "DHL", "tracking_number": fmt.Sprintf("JD%08d", n)}
		}
		status, body, err := l.post(n+k+1, "/v1/orders/"+o.id+"/"+step, payload)
		if err != nil {
			o.uncertain = step
			l.res.commandsUnknown.Add(1)
			return
		}
		if status != http.StatusOK {
			o.refused = fmt.Sprintf("%s: %d %s", step, status, body)
			return
		}
		o.done = append(o.done, step)
		l.res.commandsOK.Add(1)
	}
}

// runLoad places total orders from workers goroutines, spread over the
// cluster, and walks each through its plan, recording what happened in res.
// onAccepted runs (under the
// result's lock) after each accepted order, with the count so far.
func runLoad(c *cluster, res *loadResult, customer string, total, workers int, onAccepted func(n int)) {
	l := &loader{c: c, client: &http.Client{Timeout: 10 * time.Second}, res: res}
	inParallel(workers, total, func(n int) {
		status, body, err := l.post(n, "/v1/orders", newOrder(customer))
		if err != nil {
			l.res.placeLost.Add(1)
			return
		}
		o := &plannedOrder{plan: plans[n%len(plans)]}
		var created orderBody
		if status != http.StatusCreated || json.Unmarshal(body, &created) != nil {
			o.refused = fmt.Sprintf("place: %d %s", status, body)
		}
		o.id = created.OrderID
		l.res.mu.Lock()
		l.res.accepted = append(l.res.accepted, o)
		if onAccepted != nil {
			onAccepted(len(l.res.accepted))
		}
		l.res.mu.Unlock()
		if o.refused == "" {
			l.run(n, o)
		}
	})
}
