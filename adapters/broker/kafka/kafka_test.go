package kafka_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

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

// TestPubSub runs Watermill's suite with a shorter rebalance than the
// default. Its TestTopic subscribes one consumer group to two topics and
// reads the first while the second's message waits unread: when the second
// topic's member was assigned first, the rebalance that lets the first in
// waits for that member's delivery, which watermill-kafka finishes before it
// leaves its session, for up to the rebalance timeout. With the default 20s
// that outlasts the suite's 15s wait (seen in about one run in five under
// load); with 8s the coordinator drops the member and the first topic is
// served in time.
//
// Heartbeats come every 500 ms, as in watermill-kafka's own suite, so a
// member busy under -race is not dropped for a beat or two that came late.
// The broker logs to the test, so a failure shows its reconnects and errors.
func TestPubSub(t *testing.T) {
	log := testenv.Logger(t)
	b, err := kafka.New(kafka.Config{Brokers: testenv.Kafka(t), Partitions: 3,
		SessionTimeout: 6 * time.Second, RebalanceTimeout: 8 * time.Second,
		HeartbeatInterval: 500 * time.Millisecond}, log)
	brokertest.PubSub(t, brokertest.Opened(t, b, err), tests.Features{
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

func TestPublishInOrderKeepsEachTopicsOrder(t *testing.T) {
	brokertest.PublishInOrderKeepsEachTopicsOrder(t, open(t))
}
