package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/orderflow/orderflow/outbox"
	"github.com/orderflow/orderflow/router"
)

// The fault tests (make test-fault runs only them; go test ./... runs them
// too). Each is bounded in load and time, talks only to loopback, and logs
// one line of figures: accepted, lost (must be 0), effects applied twice
// (must be 0), poisoned, and the time to recover.

// faultReport is the line every fault test prints.
type faultReport struct {
	name                          string
	accepted, lost, twice, poison int
	recover                       time.Duration
	extra                         string
}

func (r faultReport) log(t *testing.T) {
	t.Helper()
	t.Logf("FAULT %s: accepted %d, lost %d, applied twice %d, poisoned %d, recovered in %s%s",
		r.name, r.accepted, r.lost, r.twice, r.poison, r.recover.Round(time.Millisecond), r.extra)
	if r.lost != 0 || r.twice != 0 {
		t.Fatalf("%s broke the guarantees: lost %d, applied twice %d", r.name, r.lost, r.twice)
	}
}

// checkOrders verifies, for every accepted order, that the event store holds
// exactly the events the accepted commands caused (placed, plus confirmed
// when a confirm was accepted) and that the read model, once caught up,
// lists it once at that version. It returns lost, twice, and how long the
// read model took to catch up.
// Orders in maybeConfirmed had a confirm that got no answer (the process
// died): one or two events are both right for them.
func checkOrders(t *testing.T, base, customer string, accepted, maybeConfirmed map[string]bool) (lost, twice int, caughtUp time.Duration) {
	t.Helper()
	start := time.Now()
	for id, confirmed := range accepted {
		want := 1
		if confirmed {
			want = 2
		}
		limit := want
		if maybeConfirmed[id] {
			limit = 2
		}
		var events []struct{ Type string }
		r := do(t, "GET", base+"/v1/orders/"+id+"/events", nil)
		if r.status != http.StatusOK {
			lost++
			continue
		}
		r.json(t, &events)
		switch {
		case len(events) < want:
			lost++
			continue
		case len(events) > limit:
			twice++
		}
		waitFor(t, 90*time.Second, "order "+id+" in the read model", func() bool {
			var o orderBody
			r := do(t, "GET", base+"/v1/orders/"+id, nil)
			if r.status != http.StatusOK {
				return false
			}
			r.json(t, &o)
			return o.Version >= int64(len(events))
		})
	}
	caughtUp = time.Since(start)
	for id, n := range listAll(t, base, customer) {
		if n > 1 {
			twice++
		}
		_ = id
	}
	return lost, twice, caughtUp
}

// loadGen places orders (and confirms every third one) from a few workers
// until stop is closed. Commands that got no answer are unknown, not lost.
type loadGen struct {
	base, customer string
	mu             sync.Mutex
	accepted       map[string]bool // order id -> confirm accepted
	maybeConfirmed map[string]bool // confirm sent, no answer
	unanswered     atomic.Int64
	count          atomic.Int64
	// pace is the pause between one worker's orders (0: none), to bound the load.
	pace time.Duration
}

func (g *loadGen) run(workers int, stop <-chan struct{}) *sync.WaitGroup {
	client := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(g.pace):
				}
				b, _ := json.Marshal(newOrder(g.customer))
				res, err := client.Post(g.base+"/v1/orders", "application/json", bytes.NewReader(b))
				if err != nil {
					g.unanswered.Add(1)
					time.Sleep(20 * time.Millisecond) // the service is down: pace the retries
					continue
				}
				var created orderBody
				_ = json.NewDecoder(res.Body).Decode(&created)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					continue
				}
				g.mu.Lock()
				g.accepted[created.OrderID] = false
				g.mu.Unlock()
				g.count.Add(1)
				if n%3 != 0 {
					continue
				}
				req, _ := http.NewRequest("POST", g.base+"/v1/orders/"+created.OrderID+"/cancel",
					strings.NewReader(`{"reason":"fault test"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("If-Match", `"1"`)
				res, err = client.Do(req)
				if err != nil {
					g.unanswered.Add(1)
					g.mu.Lock()
					g.maybeConfirmed[created.OrderID] = true
					g.mu.Unlock()
					continue
				}
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					g.mu.Lock()
					g.accepted[created.OrderID] = true
					g.mu.Unlock()
				}
			}
		})
	}
	return &wg
}

// TestFaultSIGKILLRepeated kills the real binary with SIGKILL at random
// moments under a bounded load, three times, restarting it on the same data
// each time, and then checks every accepted command.
func TestFaultSIGKILLRepeated(t *testing.T) {
	eachStoreBinary(t, func(t *testing.T, store string, b *storeBinary) {
		base := b.base
		g := &loadGen{base: base, customer: "fault-kill-" + uuid.NewString(), accepted: map[string]bool{}, maybeConfirmed: map[string]bool{}}
		p := b.start(t)
		stop := make(chan struct{})
		wg := g.run(4, stop)
		const kills = 3
		var downtime time.Duration
		for i := range kills {
			// A random moment: after 10 to 60 more accepted orders.
			target := g.count.Load() + 10 + rand.Int64N(50)
			waitFor(t, 60*time.Second, "load before the kill", func() bool { return g.count.Load() >= target })
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			p.waitKilled(t)
			killed := time.Now()
			p = b.start(t)
			downtime += time.Since(killed)
			t.Logf("kill %d of %d at %d accepted orders", i+1, kills, target)
		}
		target := g.count.Load() + 20
		waitFor(t, 60*time.Second, "load after the last restart", func() bool { return g.count.Load() >= target })
		close(stop)
		wg.Wait()
		lost, twice, caughtUp := checkOrders(t, base, g.customer, g.accepted, g.maybeConfirmed)
		faultReport{name: "sigkill x3 (" + store + ")", accepted: len(g.accepted), lost: lost, twice: twice,
			recover: caughtUp, extra: fmt.Sprintf(" (read model caught up after the load; restarts took %s in all; %d requests unanswered)",
				downtime.Round(time.Millisecond), g.unanswered.Load())}.log(t)
	}, "ORDERFLOW_ROLES="+rolesWithoutSaga)
}

// TestFaultInjectedMessages publishes malformed, oversized and unknown-type
// messages on every topic the router consumes, between real orders: each
// bad message is parked, and every order still reaches the read model.
func TestFaultInjectedMessages(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			m, base := startMain(t, withoutSaga(s.config(t)))
			customer := "fault-inject-" + uuid.NewString()
			pub := m.Adapters().Broker.Publisher
			eventTopic := router.EventTopic("order")
			streamID := uuid.NewString()
			bad := []struct {
				topic string
				msg   *message.Message
			}{
				{eventTopic, message.NewMessage(uuid.NewString(), []byte(`{"truncated":`[:12]+`"}`))},
				{eventTopic, message.NewMessage(uuid.NewString(), []byte(`{"big":"`+strings.Repeat("x", 512<<10)+`"}`))},
				{eventTopic, eventMessage(streamID, "order.exploded.v1", `{"order_id":"`+streamID+`"}`)},
				{eventTopic, eventMessage(uuid.NewString(), "order.placed.v1", `{"items":"not a list"}`)},
				{outbox.Topic, message.NewMessage(uuid.NewString(), []byte(`{"no":"envelope"}`))},
				{outbox.Topic, message.NewMessage(uuid.NewString(), []byte(`{"big":"`+strings.Repeat("y", 512<<10)+`"}`))},
			}
			accepted := map[string]bool{}
			start := time.Now()
			injected, refused := 0, 0
			for _, b := range bad {
				payload := b.msg.Payload
				if err := pub.Publish(b.topic, b.msg); err != nil {
					if json.Valid(payload) { // only non-JSON may be refused (Postgres stores payloads as json)
						t.Fatalf("inject on %s: %v", b.topic, err)
					}
					refused++
				} else {
					injected++
				}
				r := do(t, "POST", base+"/v1/orders", newOrder(customer))
				expectStatus(t, r, http.StatusCreated)
				var o orderBody
				r.json(t, &o)
				accepted[o.OrderID] = false
			}
			lost, twice, _ := checkOrders(t, base, customer, accepted, nil)
			var page poisonPageBody
			waitFor(t, 60*time.Second, "every bad message parked", func() bool {
				r := do(t, "GET", base+"/v1/admin/poison?limit=100", nil)
				r.json(t, &page)
				return len(page.Items) >= injected
			})
			if len(page.Items) != injected {
				t.Fatalf("%d messages parked, %d injected", len(page.Items), injected)
			}
			faultReport{name: "injected bad messages (" + s.name + ")", accepted: len(accepted), lost: lost, twice: twice,
				poison: len(page.Items), recover: time.Since(start),
				extra: fmt.Sprintf(" (%d injected on %s and %s, %d refused by the broker itself)", injected, eventTopic, outbox.Topic, refused)}.log(t)
		})
	}
}

// eventMessage is a message with a complete event envelope.
func eventMessage(streamID, eventType, data string) *message.Message {
	msg := message.NewMessage(uuid.NewString(), []byte(data))
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for k, v := range map[string]string{"event_type": eventType, "stream_type": "order", "stream_id": streamID,
		"version": "1", "position": "1/1", "occurred_at": now, "recorded_at": now} {
		msg.Metadata.Set(k, v)
	}
	return msg
}

// TestFaultConcurrentConflictingCommands sends 64 concurrent conflicting
// commands (confirm and cancel, all at version 1) on one order: exactly one
// wins, the others are refused, and the order holds two events.
func TestFaultConcurrentConflictingCommands(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			_, base := startMain(t, withoutSaga(s.config(t)))
			customer := "fault-race-" + uuid.NewString()
			r := do(t, "POST", base+"/v1/orders", newOrder(customer))
			expectStatus(t, r, http.StatusCreated)
			var o orderBody
			r.json(t, &o)
			start := time.Now()
			statuses := make([]int, 64)
			var wg sync.WaitGroup
			for i := range statuses {
				wg.Go(func() {
					if i%2 == 0 {
						statuses[i] = do(t, "POST", base+"/v1/orders/"+o.OrderID+"/cancel", map[string]string{"reason": "race"}, "If-Match", `"1"`).status
					} else {
						statuses[i] = do(t, "POST", base+"/v1/orders/"+o.OrderID+"/cancel", map[string]string{"reason": "race"}, "If-Match", `"1"`).status
					}
				})
			}
			wg.Wait()
			won, refused := 0, 0
			for _, st := range statuses {
				switch st {
				case http.StatusOK:
					won++
				case http.StatusPreconditionFailed, http.StatusConflict:
					refused++
				default:
					t.Fatalf("a conflicting command answered %d", st)
				}
			}
			var events []struct{ Type string }
			do(t, "GET", base+"/v1/orders/"+o.OrderID+"/events", nil).json(t, &events)
			twice := max(0, len(events)-2)
			lost := 0
			if won != 1 || len(events) < 2 {
				lost = 1
			}
			l2, t2, _ := checkOrders(t, base, customer, map[string]bool{o.OrderID: true}, nil)
			faultReport{name: "64 conflicting commands (" + s.name + ")", accepted: won, lost: lost + l2, twice: twice + t2,
				recover: time.Since(start), extra: fmt.Sprintf(" (%d refused with 409/412)", refused)}.log(t)
		})
	}
}
