package brokertest

import (
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/orderflow/orderflow/adapters/broker"
)

// PubSub runs Watermill's universal Pub/Sub suite on the publisher and
// subscribers a broker package assembles around its library (namespaces,
// stream and topic creation, durable consumers, one client per
// subscriber). A subscriber with no consumer group gets a group of its own,
// so it sees every message.
//
// sharedDefaultGroup: subscribers without a group of one test share a queue
// (AMQP: a new queue only receives what is published after it exists, so a
// subscriber replacing a closed one must reuse it).
func PubSub(t *testing.T, b broker.Broker, features tests.Features, sharedDefaultGroup bool) {
	pubSub := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		switch {
		case group != "":
		case sharedDefaultGroup:
			group = "pubsub-default"
		default:
			group = "pubsub-" + watermill.NewShortUUID()
		}
		sub, err := b.Subscriber(group)
		if err != nil {
			t.Fatal(err)
		}
		return nopClose{b.Publisher}, sub
	}
	tests.TestPubSub(t, features,
		func(t *testing.T) (message.Publisher, message.Subscriber) { return pubSub(t, "") },
		pubSub)
}

// nopClose keeps the suite from closing the broker's one publisher, which
// the broker's cleanup closes.
type nopClose struct{ message.Publisher }

func (nopClose) Close() error { return nil }
