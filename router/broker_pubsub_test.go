package router_test

import (
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/orderflow/orderflow/router"
)

// TestBrokerPubSub runs Watermill's universal Pub/Sub suite on the
// publishers and subscribers this package assembles around the broker
// libraries (namespaces, stream and topic creation, durable consumers,
// one client per subscriber). A subscriber with no consumer group gets a
// group of its own, so it sees every message.
func TestBrokerPubSub(t *testing.T) {
	for _, bc := range []struct {
		name     string
		open     func(t *testing.T) router.Broker
		features tests.Features
		// sharedDefaultGroup: subscribers without a group of one test share
		// a queue (AMQP: a new queue only receives what is published after
		// it exists, so a subscriber replacing a closed one must reuse it).
		sharedDefaultGroup bool
	}{
		{"kafka", durableBrokers[0].open, tests.Features{
			ConsumerGroups: true, Persistent: true,
			GuaranteedOrderWithSingleSubscriber: true,
			NewSubscriberReceivesOldMessages:    true,
		}, false},
		{"nats", durableBrokers[1].open, tests.Features{
			ConsumerGroups: true, Persistent: true,
			NewSubscriberReceivesOldMessages: true,
		}, false},
		{"amqp", durableBrokers[2].open, tests.Features{
			ConsumerGroups: true, Persistent: true, GuaranteedOrder: true,
			GuaranteedOrderWithSingleSubscriber: true, // as watermill-amqp's own suite
		}, true},
		{"redis", durableBrokers[3].open, tests.Features{
			ConsumerGroups: true, Persistent: true,
			GuaranteedOrderWithSingleSubscriber: true,
			NewSubscriberReceivesOldMessages:    true,
		}, false},
	} {
		t.Run(bc.name, func(t *testing.T) {
			b := bc.open(t)
			pubSub := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
				switch {
				case group != "":
				case bc.sharedDefaultGroup:
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
			tests.TestPubSub(t, bc.features,
				func(t *testing.T) (message.Publisher, message.Subscriber) { return pubSub(t, "") },
				pubSub)
		})
	}
}

// nopClose keeps the suite from closing the broker's one publisher, which
// the broker's cleanup closes.
type nopClose struct{ message.Publisher }

func (nopClose) Close() error { return nil }
