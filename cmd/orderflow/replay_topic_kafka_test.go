package main

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/router"
)

// replay-topic on a namespaced Kafka broker: a dry run lists every message
// of the partitioned topic, and a replay through the projection's route
// restores a lost read model.
func TestReplayTopicKafka(t *testing.T) {
	cfg := withoutSaga(Config{PostgresURL: testenv.PostgresURL(t), BrokerConfig: BrokerConfig{
		Broker: router.BrokerKafka, KafkaBrokers: strings.Join(testenv.Kafka(t), ","), KafkaPartitions: 3,
		Namespace: testenv.BrokerNamespace(t)}})
	m, base := startMain(t, cfg)
	orders := placeOrders(t, base, "replay-topic-kafka", 8)
	waitProjected(t, base, orders)
	before := allRows(t, m.stack.orders)
	topic := router.EventTopic("order")
	total := countOn(t, m, topic)
	if total < len(orders) {
		t.Fatalf("%d messages on %s for %d orders", total, topic, len(orders))
	}

	if _, err := m.stack.shadow.Shadow(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	if err := m.stack.shadow.Swap(t.Context()); err != nil {
		t.Fatal(err)
	}
	runOut := func(extra ...string) string {
		t.Helper()
		args := append([]string{"replay-topic", "--topic", topic, "--handler", router.HandlerOrderSummary,
			"--postgres-url", cfg.PostgresURL, "--broker", router.BrokerKafka, "--kafka-brokers", cfg.KafkaBrokers,
			"--kafka-partitions", "3", "--broker-namespace", cfg.Namespace}, extra...)
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), args, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr.String())
		}
		return stdout.String()
	}

	out := runOut("--dry-run")
	if lines := strings.Count(out, "offset="); lines != total || !strings.Contains(out, "event_type=order.placed.v2") {
		t.Fatalf("dry run printed %d message lines for %d messages:\n%s", lines, total, out)
	}
	if rows := allRows(t, m.stack.orders); len(rows) != 0 {
		t.Fatal("the dry run handled messages")
	}
	out = runOut()
	if !strings.Contains(out, fmt.Sprintf("replayed %d messages", total)) || !strings.Contains(out, fmt.Sprintf("(handled %d)", total)) {
		t.Fatalf("replay: %s", out)
	}
	if after := allRows(t, m.stack.orders); !reflect.DeepEqual(after, before) {
		t.Fatalf("read model after replay (%d rows) differs from before (%d rows)", len(after), len(before))
	}
}
