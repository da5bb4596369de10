package amqp_test

import (
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/adapters/broker/amqp"
	"github.com/orderflow/orderflow/adapters/broker/brokertest"
	"github.com/orderflow/orderflow/internal/testenv"
)

func open(t *testing.T) broker.Broker {
	b, err := amqp.New(testenv.AMQPURL(), watermill.NopLogger{})
	return brokertest.Opened(t, b, err)
}

func TestPubSub(t *testing.T) {
	brokertest.PubSub(t, open(t), tests.Features{
		ConsumerGroups: true, Persistent: true, GuaranteedOrder: true,
		GuaranteedOrderWithSingleSubscriber: true, // as watermill-amqp's own suite
	}, true)
}

// A new consumer group does not get what was published before its queue
// existed: the fanout exchange only fills queues that exist.
func TestConsumerGroupSurvivesRestart(t *testing.T) {
	brokertest.ConsumerGroupSurvivesRestart(t, open(t), false)
}

func TestPublishInOrderKeepsEachTopicsOrder(t *testing.T) {
	brokertest.PublishInOrderKeepsEachTopicsOrder(t, open(t))
}
