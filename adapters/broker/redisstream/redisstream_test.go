package redisstream_test

import (
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/adapters/broker/brokertest"
	"github.com/orderflow/orderflow/adapters/broker/redisstream"
	"github.com/orderflow/orderflow/internal/testenv"
)

func open(t *testing.T) broker.Broker {
	b, err := redisstream.New(testenv.RedisURL(), watermill.NopLogger{})
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

// A subscriber closed while its handler holds a message unacked leaves that
// message pending under its consumer; the next subscriber of the group gets
// it first, at once, and not after the minute it takes to claim the pending
// messages of a consumer that died.
func TestCloseHandsPendingMessagesOver(t *testing.T) {
	b := open(t)
	const topic, group = "orders.events.v1", "projection.v1"
	first := brokertest.Subscribe(t, b, group, topic)
	for _, id := range []string{"held", "next"} {
		if err := b.Publisher.Publish(topic, message.NewMessage(id, []byte(`"`+id+`"`))); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case msg := <-first.C:
		if msg.UUID != "held" {
			t.Fatalf("got %s first, want held", msg.UUID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10s")
	}
	first.Close(t) // "held" never acked

	second := brokertest.Subscribe(t, b, group, topic)
	got := make(chan string, 1)
	go func() {
		if msg, ok := <-second.C; ok {
			msg.Ack()
			got <- msg.UUID
		}
	}()
	select {
	case id := <-got:
		if id != "held" {
			t.Fatalf("after the restart the group got %s first, want the unacked held", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the unacked message did not come back within 10s: not handed over")
	}
}

func TestPublishInOrderKeepsEachTopicsOrder(t *testing.T) {
	brokertest.PublishInOrderKeepsEachTopicsOrder(t, open(t))
}
