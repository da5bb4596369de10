package outbox_test

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/orderflow/orderflow/outbox"
	"github.com/orderflow/orderflow/router"
	"github.com/prometheus/client_golang/prometheus"
)

// TestForwarderPublishesBatchesInOrder: every event reaches Kafka once,
// with its UUID and metadata, each order's events in order, in batches of
// more than one message (counted by the forwarder's metrics and by the
// produce requests Kafka answered).
func TestForwarderPublishesBatchesInOrder(t *testing.T) {
	for _, s := range outboxStores {
		t.Run(s.name, func(t *testing.T) {
			k, fx, want := openWithEvents(t, s.open, 10, 12) // 120 rows
			reg := prometheus.NewRegistry()
			f := newForwarder(t, fx.reader(t), k.broker(t), fx.poison, 50, reg)

			sizes := drain(t, f, 120)
			for _, n := range sizes {
				if n > 50 {
					t.Fatalf("batch sizes %v exceed the batch size 50", sizes)
				}
			}
			if len(sizes) > 10 {
				t.Fatalf("batch sizes %v: 120 rows should take about 3 batches of up to 50", sizes)
			}
			checkDelivered(t, k.read(t, router.EventTopic("order"), len(want)), want)

			h := histogram(t, reg, "orderflow_outbox_forward_batch_size")
			if h.GetSampleCount() != uint64(len(sizes)) || h.GetSampleSum() != 120 {
				t.Fatalf("batch size histogram: %d batches, %v rows; want %d, 120", h.GetSampleCount(), h.GetSampleSum(), len(sizes))
			}
			if got := counter(t, reg, "orderflow_outbox_forwarded_messages_total"); got != 120 {
				t.Fatalf("forwarded_messages_total = %v, want 120", got)
			}
			if p := k.produces.Load(); p >= 60 {
				t.Fatalf("%d produce requests for 120 messages: not batched", p)
			}
			t.Logf("120 messages in %d batches, %d produce requests", len(sizes), k.produces.Load())
		})
	}
}

// TestForwarderAcksNothingWhenTheBrokerFailsMidBatch: Kafka accepts the
// first produce request of a batch and then fails; the outbox offset does
// not move, and once Kafka is back every event arrives, in order.
func TestForwarderAcksNothingWhenTheBrokerFailsMidBatch(t *testing.T) {
	for _, s := range outboxStores {
		t.Run(s.name, func(t *testing.T) {
			k, fx, want := openWithEvents(t, s.open, 6, 10)
			reg := prometheus.NewRegistry()
			f := newForwarder(t, fx.reader(t), k.broker(t), fx.poison, 100, reg)

			before := fx.acked(t)
			k.down.Store(true)
			// An empty read is no failure: on a shared server the new rows
			// stay invisible while an older transaction anywhere is open.
			n, err := f.ForwardOnce(context.Background())
			for deadline := time.Now().Add(10 * time.Second); err == nil && n == 0 && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
				n, err = f.ForwardOnce(context.Background())
			}
			if err == nil || n != 0 {
				t.Fatalf("forward with Kafka down: %d acked, err %v; want 0 and an error", n, err)
			}
			if after := fx.acked(t); after != before {
				t.Fatalf("outbox offset moved from %d to %d although the publish failed", before, after)
			}
			if c := counter(t, reg, "orderflow_outbox_forward_errors_total", "stage", "publish"); c != 1 {
				t.Fatalf("publish errors = %v, want 1", c)
			}
			t.Logf("failed attempt: %v (%d produce request(s) went through first)", err, k.produces.Load())

			k.down.Store(false)
			drain(t, f, 60) // the failed batch again, and the rest
			checkDelivered(t, k.read(t, router.EventTopic("order"), len(want)), want)
		})
	}
}

// TestTwoForwardersShareOneOutbox: two forwarders (two readers, as two
// processes) run on one outbox while events are appended; every event
// arrives, each order's in order, and the group's lock kept them from
// interleaving.
func TestTwoForwardersShareOneOutbox(t *testing.T) {
	for _, s := range outboxStores {
		t.Run(s.name, func(t *testing.T) {
			k := newTestKafka(t)
			fx := s.open(t)
			b := k.broker(t)
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range 2 {
				f := newForwarder(t, fx.reader(t), b, fx.poison, 7, prometheus.NewRegistry())
				wg.Go(func() { _ = f.Run(ctx) })
			}
			want := map[string]*message.Message{}
			for range 4 {
				maps.Copy(want, appendEvents(t, fx.store, 5, 8))
			}
			got := k.read(t, router.EventTopic("order"), len(want))
			cancel()
			wg.Wait()
			checkDelivered(t, got, want)
			t.Logf("%d events, %d on Kafka (duplicates: %d)", len(want), len(got), len(got)-len(want))
		})
	}
}

// TestForwarderParksRowsThatAreNotEnvelopes: rows the forwarder cannot
// unwrap go to the poison queue with the reason, and the events around
// them are forwarded.
func TestForwarderParksRowsThatAreNotEnvelopes(t *testing.T) {
	for _, s := range outboxStores {
		t.Run(s.name, func(t *testing.T) {
			k, fx, want := openWithEvents(t, s.open, 3, 2)
			bad := map[string]string{} // row UUID -> what the reason must say
			for _, row := range []struct{ payload, reason string }{
				{`{"no":"envelope"}`, "no destination_topic"},
				{`{"destination_topic":"orderflow.order.events.v1","payload":"e30="}`, "no uuid"},
				{`{"destination_topic":"x","uuid":"u","payload":"not base64!"}`, "not a forwarder envelope"},
			} {
				msg := message.NewMessage(uuid.NewString(), []byte(row.payload))
				bad[msg.UUID] = row.reason
				fx.inject(t, msg)
			}
			maps.Copy(want, appendEvents(t, fx.store, 3, 2))
			f := newForwarder(t, fx.reader(t), k.broker(t), fx.poison, 100, prometheus.NewRegistry())
			drain(t, f, len(want)+len(bad))
			checkDelivered(t, k.read(t, router.EventTopic("order"), len(want)), want)

			parked, err := fx.poison.List(context.Background(), "", 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(parked) != len(bad) {
				t.Fatalf("%d rows parked, want %d", len(parked), len(bad))
			}
			for _, p := range parked {
				reason, ok := bad[p.MessageID]
				if !ok || !strings.Contains(p.Reason, reason) || p.Topic != outbox.Topic || p.Handler != outbox.ForwarderName {
					t.Fatalf("parked %s: topic %q handler %q reason %q; want %s, %s, a reason with %q",
						p.MessageID, p.Topic, p.Handler, p.Reason, outbox.Topic, outbox.ForwarderName, reason)
				}
				var env map[string]any
				if err := json.Unmarshal(p.Payload, &env); err != nil {
					t.Fatalf("parked %s keeps the row's payload: %v", p.MessageID, err)
				}
			}
		})
	}
}
