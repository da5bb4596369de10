package e2e

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
	"github.com/orderflow/orderflow/service"
)

// countOn counts the messages of a topic (a dry run through the replay
// source).
func countOn(t *testing.T, m *service.Main, topic string) int {
	t.Helper()
	n := 0
	err := m.Adapters().Broker.Replay.Read(t.Context(), topic, broker.ReplayFrom{}, func(broker.StoredMessage) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// orderTopic returns the read model's rows and the order event topic with
// its message count, which must be at least one a placed order.
func orderTopic(t *testing.T, m *service.Main, orders map[string]int64) (before []ports.OrderSummary, topic string, total int) {
	t.Helper()
	before = allRows(t, m.Adapters().Orders)
	topic = router.EventTopic("order")
	total = countOn(t, m, topic)
	if total < len(orders) {
		t.Fatalf("%d messages on %s for %d orders", total, topic, len(orders))
	}
	return before, topic, total
}

// loseReadModel swaps an empty table in for the read model.
func loseReadModel(t *testing.T, m *service.Main) {
	t.Helper()
	if _, err := m.Adapters().Shadow.Shadow(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	if err := m.Adapters().Shadow.Swap(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// runOrderflow runs the real binary with args and returns its stdout; it
// fails the test, with stderr, if the command fails.
func runOrderflow(ctx context.Context, t *testing.T, args []string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := orderflow(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

// replay-topic feeds the event topic through the projection's own route and
// middleware: it restores a lost read model, honours --from-offset, --since
// and --dry-run, and parks what can never be handled on the poison topic.
func TestReplayTopicThroughHandler(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			cfg := s.config(t)
			m, _, orders := startWithOrders(t, cfg, "replay-topic", 8)
			before, topic, total := orderTopic(t, m, orders)

			// A message that is not an event: the poison queue must take it.
			bad := message.NewMessage("0193a1b2-0000-7000-8000-0000000bad01", []byte(`{}`))
			if err := m.Adapters().Broker.Publisher.Publish(topic, bad); err != nil {
				t.Fatal(err)
			}
			poisonBefore := countPoisoned(t, m)
			waitFor(t, 30*time.Second, "the live router parks the bad message", func() bool {
				return countPoisoned(t, m) > poisonBefore
			})
			poisonBefore = countPoisoned(t, m)

			// Lose the read model: swap in an empty table.
			loseReadModel(t, m)
			if rows := allRows(t, m.Adapters().Orders); len(rows) != 0 {
				t.Fatalf("%d rows after the swap to an empty table", len(rows))
			}
			args := func(extra ...string) []string {
				return append(append([]string{"replay-topic", "--topic", topic, "--handler", router.HandlerOrderSummary}, storeArgs(cfg)...), extra...)
			}
			runOut := func(a []string) string {
				t.Helper()
				return runOrderflow(context.Background(), t, a)
			}

			out := runOut(args("--dry-run"))
			if lines := strings.Count(out, "offset="); lines != total+1 || !strings.Contains(out, "event_type=order.placed.v2") ||
				!strings.Contains(out, fmt.Sprintf("would replay %d messages", total+1)) {
				t.Fatalf("dry run printed %d message lines for %d messages:\n%s", lines, total+1, out)
			}
			if rows := allRows(t, m.Adapters().Orders); len(rows) != 0 {
				t.Fatal("the dry run handled messages")
			}
			if out := runOut(args("--since", time.Now().Add(time.Hour).Format(time.RFC3339))); !strings.Contains(out, "replayed 0 messages") {
				t.Fatalf("--since in the future: %s", out)
			}

			out = runOut(args())
			if !strings.Contains(out, fmt.Sprintf("replayed %d messages", total+1)) || !strings.Contains(out, fmt.Sprintf("(handled %d)", total+1)) {
				t.Fatalf("replay: %s", out)
			}
			if after := allRows(t, m.Adapters().Orders); !reflect.DeepEqual(after, before) {
				t.Fatalf("read model after replay (%d rows) differs from before (%d rows)", len(after), len(before))
			}
			if got := countPoisoned(t, m); got != poisonBefore+1 {
				t.Fatalf("poison queue holds %d messages, want %d: the replay's middleware did not park the bad message", got, poisonBefore+1)
			}

			var lastOffset int64
			if err := m.Adapters().Broker.Replay.Read(t.Context(), topic, broker.ReplayFrom{}, func(sm broker.StoredMessage) error {
				lastOffset = sm.Offset
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			out = runOut(args("--from-offset", fmt.Sprint(lastOffset-1), "--dry-run"))
			if strings.Count(out, "offset=") != 1 {
				t.Fatalf("--from-offset %d: %s", lastOffset-1, out)
			}
		})
	}
}

// countPoisoned counts the messages parked in the poison queue.
func countPoisoned(t *testing.T, m *service.Main) int {
	t.Helper()
	parked, err := m.Adapters().Poison.List(t.Context(), "", 10_000)
	if err != nil {
		t.Fatal(err)
	}
	return len(parked)
}
