package router_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/broker"
	sqlbroker "github.com/orderflow/orderflow/adapters/broker/sql"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const (
	testHandler = "orderflow.test.handler.v1"
	testTopic   = "orderflow.test.events.v1"
)

// rig is the real infrastructure of a route: the embedded SQLite broker, the
// durable inbox and poison store. Each test starts its own route on it.
type rig struct {
	broker  broker.Broker
	poison  ports.PoisonStore
	retries ports.RetryStore
	dedup   ports.DedupStore
	rel     router.Reliability
	reg     *prometheus.Registry
}

func newRig(t *testing.T) *rig {
	t.Helper()
	db := storetest.SQLiteDB(t)
	b, err := sqlbroker.NewSQLite(t.Context(), db, 5*time.Millisecond, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	rg := &rig{broker: b, poison: sqlite.Stores(db).Poison, retries: sqlite.Stores(db).Retries,
		dedup: sqlite.Stores(db).Inbox, reg: prometheus.NewRegistry()}
	rg.rel = router.Reliability{
		Retry: middleware.Retry{MaxRetries: 3, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond,
			Multiplier: 2, MaxElapsedTime: 10 * time.Second, RandomizationFactor: 0.5},
		HandlerTimeout: 10 * time.Second,
		Poison:         rg.poison,
		Dedup:          rg.dedup,
	}
	return rg
}

// chain is the production chain with a delivery counter outermost.
func (rg *rig) chain(t *testing.T, deliveries *atomic.Int64) []message.HandlerMiddleware {
	t.Helper()
	chain, err := router.Middlewares(rg.rel, rg.broker.Publisher, rg.reg, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	return append([]message.HandlerMiddleware{counting(deliveries)}, chain...)
}

func counting(n *atomic.Int64) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) { n.Add(1); return h(msg) }
	}
}

// run starts a router with chain on testTopic and handler h, until the test ends.
func (rg *rig) run(t *testing.T, chain []message.HandlerMiddleware, h message.NoPublishHandlerFunc) {
	t.Helper()
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 5 * time.Second}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	r.AddMiddleware(chain...)
	sub, err := rg.broker.Subscriber(testHandler)
	if err != nil {
		t.Fatal(err)
	}
	r.AddConsumerHandler(testHandler, testTopic, sub, h)
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(context.Background()) }()
	<-r.Running()
	t.Cleanup(func() { _ = r.Close(); <-done })
}

func (rg *rig) publish(t *testing.T, payload string) string {
	t.Helper()
	msg := message.NewMessage(uuid.NewString(), []byte(payload))
	if err := rg.broker.Publisher.Publish(testTopic, msg); err != nil {
		t.Fatal(err)
	}
	return msg.UUID
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not reached in 20s", what)
		}
		time.Sleep(2 * time.Millisecond) // poll interval, not synchronisation
	}
}

func (rg *rig) poisoned(t *testing.T) []ports.PoisonedMessage {
	t.Helper()
	list, err := rg.poison.List(t.Context(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// A transient error is retried MaxRetries times within one delivery, then
// nacked (not poisoned) and redelivered by the broker; the redelivery succeeds.
func TestTransientErrorIsRetriedThenNacked(t *testing.T) {
	rg := newRig(t)
	var deliveries, calls, handled atomic.Int64
	rg.run(t, rg.chain(t, &deliveries), func(msg *message.Message) error {
		if calls.Add(1) <= 6 {
			return apperr.New(apperr.Unavailable, "store down")
		}
		handled.Add(1)
		return nil
	})
	rg.publish(t, "{}")
	rg.publish(t, "marker")
	waitUntil(t, "both messages to be handled", func() bool { return handled.Load() == 2 })
	// 1 + 3 retries in the first delivery, 3 attempts in the second, then
	// the marker.
	if calls.Load() != 8 || deliveries.Load() != 3 {
		t.Fatalf("calls = %d, deliveries = %d; want 8 handler calls in 3 deliveries", calls.Load(), deliveries.Load())
	}
	if p := rg.poisoned(t); len(p) != 0 {
		t.Fatalf("a transient error was poisoned: %+v", p)
	}
}

// A permanent error is poisoned at once, with no retry, with its reason,
// handler, topic and first-failure time; the messages behind it flow on.
func TestPermanentErrorIsPoisonedAtOnce(t *testing.T) {
	rg := newRig(t)
	var deliveries, calls, handled atomic.Int64
	rg.run(t, rg.chain(t, &deliveries), func(msg *message.Message) error {
		calls.Add(1)
		if string(msg.Payload) == "bad" {
			return apperr.New(apperr.Invalid, "undecodable payload")
		}
		handled.Add(1)
		return nil
	})
	badID := rg.publish(t, "bad")
	rg.publish(t, "good")
	waitUntil(t, "the message behind the poisoned one", func() bool { return handled.Load() == 1 })
	if calls.Load() != 2 || deliveries.Load() != 2 {
		t.Fatalf("calls = %d, deliveries = %d; want 1 attempt of each message", calls.Load(), deliveries.Load())
	}
	p := rg.poisoned(t)
	if len(p) != 1 {
		t.Fatalf("poison queue holds %d messages, want 1", len(p))
	}
	got := p[0]
	if got.MessageID != badID || got.Handler != testHandler || got.Topic != testTopic ||
		!strings.Contains(got.Reason, "undecodable payload") || string(got.Payload) != "bad" ||
		got.FirstFailedAt.IsZero() || got.PoisonedAt.Before(got.FirstFailedAt) {
		t.Fatalf("poisoned entry = %+v", got)
	}
	if n := testutil.ToFloat64(mustCounter(t, rg.reg, "orderflow_router_poisoned_messages_total")); n != 1 {
		t.Fatalf("poisoned metric = %v, want 1", n)
	}
}

func mustCounter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "sum"})
	c.Add(total)
	return c
}

// The timeout sits inside the retry: each attempt gets a fresh deadline, so
// an attempt that timed out is retried within the same delivery. With the
// timeout outside the retry, the retry inherits the spent context and the
// message has to be nacked and redelivered.
func TestTimeoutIsPerAttempt(t *testing.T) {
	for _, tc := range []struct {
		name           string
		timeoutOutside bool
		wantDeliveries int64
	}{
		{"timeout inside retry", false, 1},
		{"timeout outside retry (wrong order)", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rg := newRig(t)
			rg.rel.HandlerTimeout = 50 * time.Millisecond
			var deliveries, calls atomic.Int64
			chain := rg.chain(t, &deliveries)
			if tc.timeoutOutside {
				chain = append([]message.HandlerMiddleware{chain[0], middleware.Timeout(rg.rel.HandlerTimeout)}, chain[1:]...)
			}
			var handled atomic.Int64
			rg.run(t, chain, func(msg *message.Message) error {
				if calls.Add(1) == 1 {
					<-msg.Context().Done() // a hung dependency
					return apperr.Wrap(apperr.Unavailable, msg.Context().Err(), "timed out")
				}
				if err := msg.Context().Err(); err != nil {
					return err
				}
				handled.Add(1)
				return nil
			})
			rg.publish(t, "{}")
			waitUntil(t, "the message to be handled", func() bool { return handled.Load() == 1 })
			if deliveries.Load() != tc.wantDeliveries {
				t.Fatalf("deliveries = %d, want %d", deliveries.Load(), tc.wantDeliveries)
			}
		})
	}
}

// Deduplication sits inside the poison queue: a poisoned message releases its
// claim, so once the cause is fixed its requeued copy is handled. With the
// deduplicator outside the poison queue, the parked message counts as
// handled and the requeued copy is silently dropped.
func TestRequeuedMessageIsHandledAgain(t *testing.T) {
	for _, tc := range []struct {
		name         string
		dedupOutside bool
		wantHandled  int64
	}{
		{"dedup inside poison queue", false, 1},
		{"dedup outside poison queue (wrong order)", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rg := newRig(t)
			var deliveries, calls, handled atomic.Int64
			chain := rg.chain(t, &deliveries)
			if tc.dedupOutside {
				inner := chain[1 : len(chain)-1]
				chain = append([]message.HandlerMiddleware{chain[0], router.Dedup(rg.dedup, time.Minute, time.Hour)}, inner...)
			}
			rg.run(t, chain, func(msg *message.Message) error {
				if calls.Add(1) == 1 {
					return apperr.New(apperr.Invalid, "unknown event type")
				}
				handled.Add(1)
				return nil
			})
			rg.publish(t, "{}")
			waitUntil(t, "the message to be poisoned", func() bool { return len(rg.poisoned(t)) == 1 })
			requeue := command.NewRequeuePoisonedHandler(rg.poison, router.PoisonRepublisher{Publisher: rg.broker.Publisher})
			if _, err := requeue.Handle(t.Context(), command.RequeuePoisoned{ID: rg.poisoned(t)[0].ID}); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "the requeued copy to be delivered", func() bool { return deliveries.Load() == 2 })
			waitUntil(t, "the route to settle", func() bool { return calls.Load() == 1+tc.wantHandled })
			if handled.Load() != tc.wantHandled || len(rg.poisoned(t)) != 0 {
				t.Fatalf("handled = %d, poisoned = %d; want %d and 0", handled.Load(), len(rg.poisoned(t)), tc.wantHandled)
			}
		})
	}
}

// Watermill's Duplicator delivers every message twice; the durable inbox
// makes the effect happen once.
func TestDuplicatedDeliveryHasOneEffect(t *testing.T) {
	rg := newRig(t)
	var deliveries atomic.Int64
	effects := make(map[string]int)
	var total atomic.Int64
	chain := rg.chain(t, &deliveries)
	chain = append(chain[:len(chain)-1], middleware.Duplicator, chain[len(chain)-1])
	rg.run(t, chain, func(msg *message.Message) error {
		effects[msg.UUID]++ // the subscriber hands messages over one at a time
		total.Add(1)
		return nil
	})
	for range 10 {
		rg.publish(t, "{}")
	}
	waitUntil(t, "ten messages handled", func() bool { return total.Load() >= 10 })
	rg.publish(t, "marker") // handed over only after the ten are settled
	waitUntil(t, "the marker handled", func() bool { return deliveries.Load() == 11 && total.Load() >= 11 })
	if n := total.Load(); n != 11 {
		t.Fatalf("%d effects for 11 messages delivered twice each", n)
	}
	for id, n := range effects {
		if n != 1 {
			t.Errorf("message %s applied %d times", id, n)
		}
	}
	waitUntil(t, "every second delivery counted as a duplicate", func() bool {
		return testutil.ToFloat64(mustCounter(t, rg.reg, "orderflow_router_duplicate_messages_total")) == 11
	})
}

// A message whose transient failure outlasts MaxFailedDeliveries
// deliveries (each with its retries) is parked with the reason and the
// count, and the message behind it flows; before, it was nacked and
// redelivered for ever, and nothing behind it moved.
func TestTransientFailureIsParkedAfterMaxDeliveries(t *testing.T) {
	rg := newRig(t)
	rg.rel.MaxFailedDeliveries = 2
	var deliveries atomic.Int64
	var marker atomic.Bool
	rg.run(t, rg.chain(t, &deliveries), func(msg *message.Message) error {
		if string(msg.Payload) == "marker" {
			marker.Store(true)
			return nil
		}
		return apperr.New(apperr.Unavailable, "provider down")
	})
	bad := rg.publish(t, "{}")
	rg.publish(t, "marker")
	waitUntil(t, "the marker behind the failing message", marker.Load)
	list := rg.poisoned(t)
	if len(list) != 1 || list[0].MessageID != bad {
		t.Fatalf("poisoned %+v, want the failing message", list)
	}
	if r := list[0].Reason; !strings.Contains(r, "gave up after 2 failed deliveries") || !strings.Contains(r, "provider down") {
		t.Fatalf("reason %q", r)
	}
	// Two deliveries of the failing message (each 1 + 3 retries), one of the marker.
	if d := deliveries.Load(); d != 3 {
		t.Fatalf("%d deliveries, want 3", d)
	}
}
