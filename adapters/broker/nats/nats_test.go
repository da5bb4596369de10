package nats_test

import (
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/adapters/broker/brokertest"
	"github.com/orderflow/orderflow/adapters/broker/nats"
	"github.com/orderflow/orderflow/internal/testenv"
)

func open(t *testing.T) broker.Broker {
	// A short AckWait: messages the server had sent to a subscription that
	// ended come back after it (handlers here take milliseconds).
	b, err := nats.New(nats.Config{URL: testenv.NATSURL(), AckWait: 5 * time.Second}, watermill.NopLogger{})
	return brokertest.Opened(t, b, err)
}

func TestPubSub(t *testing.T) {
	brokertest.PubSub(t, open(t), tests.Features{
		ConsumerGroups: true, Persistent: true,
		NewSubscriberReceivesOldMessages: true,
	}, false)
}

func TestConsumerGroupSurvivesRestart(t *testing.T) {
	brokertest.ConsumerGroupSurvivesRestart(t, open(t), true)
}

func TestPublishInOrderKeepsEachTopicsOrder(t *testing.T) {
	brokertest.PublishInOrderKeepsEachTopicsOrder(t, open(t))
}
