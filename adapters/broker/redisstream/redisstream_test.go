package redisstream_test

import (
	"testing"

	"github.com/ThreeDotsLabs/watermill"
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
