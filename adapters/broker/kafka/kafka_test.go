package kafka_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/adapters/broker/brokertest"
	"github.com/orderflow/orderflow/adapters/broker/kafka"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/testenv"
)

var logger = watermill.NopLogger{}

func open(t *testing.T) broker.Broker {
	b, err := kafka.New(kafka.Config{Brokers: testenv.Kafka(t), Partitions: 3}, logger)
	return brokertest.Opened(t, b, err)
}

func TestPubSub(t *testing.T) {
	brokertest.PubSub(t, open(t), tests.Features{
		ConsumerGroups: true, Persistent: true,
		GuaranteedOrderWithSingleSubscriber: true,
		NewSubscriberReceivesOldMessages:    true,
	}, false)
}

func TestConsumerGroupSurvivesRestart(t *testing.T) {
	brokertest.ConsumerGroupSurvivesRestart(t, open(t), true)
}

// TestPartitionsByAggregateID: every message of one aggregate lands on one
// partition, in publishing order; aggregates spread over partitions.
func TestPartitionsByAggregateID(t *testing.T) {
	b := open(t)
	const topic, perKey = "orders.events.v1", 3
	keys := make([]string, 12)
	for i := range keys {
		keys[i] = fmt.Sprintf("order-%02d", i)
	}
	for v := range perKey {
		for _, k := range keys {
			msg := message.NewMessage(fmt.Sprintf("%s/%d", k, v), nil)
			msg.Metadata.Set(eventwire.KeyPartition, k)
			if err := b.Publisher.Publish(topic, msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := brokertest.Subscribe(t, b, "partition-check.v1", topic)
	partitionOf := map[string]int32{}
	next := map[string]int{}
	used := map[int32]bool{}
	for range len(keys) * perKey {
		msg := brokertest.Receive(t, s.C)
		p, ok := wmkafka.MessagePartitionFromCtx(msg.Context())
		if !ok {
			t.Fatal("message without a partition")
		}
		key, version, _ := strings.Cut(msg.UUID, "/")
		if prev, seen := partitionOf[key]; seen && prev != p {
			t.Fatalf("%s on partitions %d and %d", key, prev, p)
		}
		partitionOf[key], used[p] = p, true
		if want := fmt.Sprint(next[key]); version != want {
			t.Fatalf("%s: got version %s, want %s (out of order)", key, version, want)
		}
		next[key]++
	}
	if len(used) < 2 {
		t.Fatalf("12 aggregates all on partitions %v", used)
	}
}
