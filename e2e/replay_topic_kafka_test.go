package e2e

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/router"
	"github.com/orderflow/orderflow/service"
)

// replay-topic on a namespaced Kafka broker: a dry run lists every message
// of the partitioned topic, and a replay through the projection's route
// restores a lost read model.
func TestReplayTopicKafka(t *testing.T) {
	cfg := withoutSaga(service.Config{PostgresURL: testenv.PostgresURL(t), BrokerConfig: service.BrokerConfig{
		Broker: broker.Kafka, KafkaBrokers: strings.Join(testenv.Kafka(t), ","), KafkaPartitions: 3,
		Namespace: testenv.BrokerNamespace(t)}})
	// 24 orders over 3 partitions by their random ids: all of them miss
	// partition 0 with probability (2/3)^24, under 1 in 10,000 (with 8 it
	// was 1 in 26, and the spread check below failed once so).
	m, _, orders := startWithOrders(t, cfg, "replay-topic-kafka", 24)
	before, topic, total := orderTopic(t, m, orders)

	loseReadModel(t, m)
	runOut := func(extra ...string) string {
		t.Helper()
		args := append([]string{"replay-topic", "--topic", topic, "--handler", router.HandlerOrderSummary,
			"--postgres-url", cfg.PostgresURL, "--broker", broker.Kafka, "--kafka-brokers", cfg.KafkaBrokers,
			"--kafka-partitions", "3", "--broker-namespace", cfg.Namespace}, extra...)
		return runOrderflow(t.Context(), t, args)
	}

	out := runOut("--dry-run")
	if lines := strings.Count(out, "offset="); lines != total || !strings.Contains(out, "event_type=order.placed.v2") {
		t.Fatalf("dry run printed %d message lines for %d messages:\n%s", lines, total, out)
	}
	if rows := allRows(t, m.Adapters().Orders); len(rows) != 0 {
		t.Fatal("the dry run handled messages")
	}
	// Resuming at partition 1 lists exactly what the full listing has
	// from partition 1 on, in the same order.
	var fromP1 []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "partition=") && !strings.HasPrefix(line, "partition=0 ") {
			fromP1 = append(fromP1, line)
		}
	}
	if len(fromP1) == 0 || len(fromP1) == total {
		t.Fatalf("%d of %d messages on partitions 1 and 2: the orders did not spread", len(fromP1), total)
	}
	resumed := runOut("--dry-run", "--from-partition", "1", "--from-offset", "0")
	if got := strings.Split(strings.TrimSpace(resumed), "\n"); !reflect.DeepEqual(got[:len(got)-1], fromP1) {
		t.Fatalf("--from-partition 1 listed:\n%s\nwant the full listing's partitions 1 and 2:\n%s", resumed, strings.Join(fromP1, "\n"))
	}
	out = runOut()
	if !strings.Contains(out, fmt.Sprintf("replayed %d messages", total)) || !strings.Contains(out, fmt.Sprintf("(handled %d)", total)) {
		t.Fatalf("replay: %s", out)
	}
	if after := allRows(t, m.Adapters().Orders); !reflect.DeepEqual(after, before) {
		t.Fatalf("read model after replay (%d rows) differs from before (%d rows)", len(after), len(before))
	}
}
