package router_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// withRetryQueue turns the rig's route into the production one with a
// retry queue, whose backoff is short so the tests run fast.
func (rg *rig) withRetryQueue(backoff time.Duration) {
	rg.rel.Retries = rg.retries
	rg.rel.RetryBackoff = backoff
	rg.rel.MaxRetryBackoff = 4 * backoff
	rg.rel.RetryPoll = 5 * time.Millisecond
}

// route starts the route and its retrier with handler h, until the test ends.
func (rg *rig) route(t *testing.T, deliveries *atomic.Int64, h message.NoPublishHandlerFunc) {
	t.Helper()
	chain, runRetrier, err := router.Route(rg.rel, rg.broker.Publisher, rg.reg, watermill.NopLogger{}, testHandler, testTopic, h)
	if err != nil {
		t.Fatal(err)
	}
	rg.run(t, append([]message.HandlerMiddleware{counting(deliveries)}, chain...), h)
	if runRetrier == nil {
		return // no retry queue
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); runRetrier(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func (rg *rig) pending(t *testing.T) int {
	t.Helper()
	n, err := rg.retries.Pending(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n[testHandler]
}

// A message that keeps failing is set aside and acked: the messages behind
// it are handled at once, however long it fails. Before the retry queue it
// was nacked and redelivered, and with --max-failed-deliveries negative
// nothing behind it ever moved on the SQL brokers (one message at a time
// per consumer group).
func TestFailingMessageNeverDelaysTheOthers(t *testing.T) {
	rg := newRig(t)
	rg.withRetryQueue(time.Hour) // it never comes back during the test
	rg.rel.MaxFailedDeliveries = -1
	var deliveries, handled atomic.Int64
	rg.route(t, &deliveries, func(msg *message.Message) error {
		if string(msg.Payload) == "bad" {
			return apperr.New(apperr.Unavailable, "provider down")
		}
		handled.Add(1)
		return nil
	})
	rg.publish(t, "bad")
	for range 20 {
		rg.publish(t, "good")
	}
	waitUntil(t, "the 20 messages behind the failing one", func() bool { return handled.Load() == 20 })
	if n := rg.pending(t); n != 1 {
		t.Fatalf("%d messages in the retry queue, want the failing one", n)
	}
	if list := rg.poisoned(t); len(list) != 0 {
		t.Fatalf("poisoned %+v, want none (it waits in the retry queue)", list)
	}
	if n := testutil.ToFloat64(mustCounter(t, rg.reg, "orderflow_router_set_aside_messages_total")); n != 1 {
		t.Fatalf("set aside %v, want 1", n)
	}
}

// A message that fails every delivery is delivered MaxFailedDeliveries
// times in all (each with its retries in place), backing off in the retry
// queue between them, and then parked with its handler, topic and the
// reason; the queue is left empty.
func TestRetryQueueParksAfterMaxDeliveries(t *testing.T) {
	rg := newRig(t)
	rg.withRetryQueue(10 * time.Millisecond)
	rg.rel.MaxFailedDeliveries = 3
	var deliveries, calls atomic.Int64
	rg.route(t, &deliveries, func(*message.Message) error {
		calls.Add(1)
		return apperr.New(apperr.Unavailable, "provider down")
	})
	bad := rg.publish(t, "bad")
	waitUntil(t, "the failing message parked", func() bool { return len(rg.poisoned(t)) == 1 })
	p := rg.poisoned(t)[0]
	if p.MessageID != bad || p.Handler != testHandler || p.Topic != testTopic {
		t.Fatalf("parked %+v, want message %s of %s on %s", p, bad, testHandler, testTopic)
	}
	if !strings.Contains(p.Reason, "gave up after 3 failed deliveries") || !strings.Contains(p.Reason, "provider down") {
		t.Fatalf("reason %q", p.Reason)
	}
	// Three deliveries of 1 + 3 retries in place each: one from the broker,
	// two from the retry queue.
	if c := calls.Load(); c != 12 {
		t.Fatalf("handler called %d times, want 12", c)
	}
	if d := deliveries.Load(); d != 1 {
		t.Fatalf("the broker delivered it %d times, want once", d)
	}
	// Parked, then deleted from the queue.
	waitUntil(t, "the retry queue empty", func() bool { return rg.pending(t) == 0 })
	waitUntil(t, "the outcome counted", func() bool { return retried(t, rg, "gave_up") == 1 })
	for outcome, want := range map[string]float64{"rescheduled": 1, "gave_up": 1} {
		if got := retried(t, rg, outcome); got != want {
			t.Errorf("retried{outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
}

// A message whose failure passes is handled from the retry queue once,
// and leaves neither the queue nor the poison queue holding it.
func TestRetriedMessageIsHandledOnceItsFailurePasses(t *testing.T) {
	rg := newRig(t)
	rg.withRetryQueue(10 * time.Millisecond)
	var deliveries, calls, effects atomic.Int64
	rg.route(t, &deliveries, func(*message.Message) error {
		if calls.Add(1) <= 5 { // the broker's delivery (4 calls) and the first from the queue
			return apperr.New(apperr.Unavailable, "provider down")
		}
		effects.Add(1)
		return nil
	})
	rg.publish(t, "flaky")
	waitUntil(t, "the message handled from the retry queue", func() bool { return retried(t, rg, "handled") == 1 })
	if e := effects.Load(); e != 1 {
		t.Fatalf("%d effects, want 1", e)
	}
	if n := rg.pending(t); n != 0 {
		t.Fatalf("%d messages left in the retry queue", n)
	}
	if list := rg.poisoned(t); len(list) != 0 {
		t.Fatalf("poisoned %+v", list)
	}
}

// When the retry queue cannot be written, the failing message is nacked
// and redelivered as without one: never acked without a copy kept.
func TestFailingMessageIsRedeliveredWhenTheRetryQueueIsDown(t *testing.T) {
	rg := newRig(t)
	rg.withRetryQueue(time.Hour)
	down := &flakyRetryStore{RetryStore: rg.retries, failAdds: 2}
	rg.rel.Retries = down
	var deliveries atomic.Int64
	rg.route(t, &deliveries, func(*message.Message) error {
		return apperr.New(apperr.Unavailable, "provider down")
	})
	rg.publish(t, "bad")
	waitUntil(t, "the message set aside once the queue is back", func() bool { return rg.pending(t) == 1 })
	if d := deliveries.Load(); d != 3 {
		t.Fatalf("the broker delivered it %d times, want 3 (two refused by the queue, then set aside)", d)
	}
}

// flakyRetryStore fails its first failAdds Adds.
type flakyRetryStore struct {
	ports.RetryStore
	mu       sync.Mutex
	failAdds int
}

func (s *flakyRetryStore) Add(ctx context.Context, m ports.RetryingMessage, d time.Duration) error {
	s.mu.Lock()
	fail := s.failAdds > 0
	s.failAdds--
	s.mu.Unlock()
	if fail {
		return errors.New("database unavailable")
	}
	return s.RetryStore.Add(ctx, m, d)
}

func retried(t *testing.T, rg *rig, outcome string) float64 {
	t.Helper()
	mfs, err := rg.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "orderflow_router_retried_messages_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
