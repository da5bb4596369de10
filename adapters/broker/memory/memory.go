// Package memory is the in-process broker on Go channels, for development
// and tests. It registers itself as broker.Memory.
package memory

import (
	"context"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/orderflow/orderflow/adapters/broker"
)

// New carries messages over Go channels inside this process. It
// is for development and tests only:
//
//   - One process only: other processes never see its messages, so it
//     cannot be combined with several processes or --roles splits.
//   - Messages live in memory. Publish blocks until every subscriber of
//     the topic acked (BlockPublishUntilSubscriberAck), so the forwarder acks
//     an outbox row only after the handlers have handled its event: a crash
//     loses nothing the outbox had, since unacked rows are forwarded again
//     after the restart. But the outbox then holds nothing back either: once
//     acked, a message exists nowhere but in the event store, and a new
//     handler (consumer group) added later starts from now, not from the
//     first event.
//   - Every message is also kept for the life of the process (Persistent),
//     so a handler that subscribes after the forwarder started still gets
//     what was published before; memory grows with every event, which is
//     fine for a development session and wrong for production.
//   - Consumer groups are not needed: each handler has its own subscription
//     and sees every message once.
func New(logger watermill.LoggerAdapter) broker.Broker {
	ch := gochannel.NewGoChannel(gochannel.Config{
		Persistent:                     true,
		BlockPublishUntilSubscriberAck: true,
	}, logger)
	return broker.Broker{
		Name:      broker.Memory,
		Publisher: ch,
		Subscriber: func(string) (message.Subscriber, error) {
			return sharedSubscriber{ch}, nil
		},
		Ping:  func(context.Context) error { return nil },
		Close: ch.Close,
	}
}

// sharedSubscriber lets each handler close "its" subscriber without closing
// the one GoChannel every handler and the publisher share; Broker.Close
// closes that.
type sharedSubscriber struct{ ch *gochannel.GoChannel }

func (s sharedSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	return s.ch.Subscribe(ctx, topic)
}

func (s sharedSubscriber) Close() error { return nil }

func init() {
	broker.Register(broker.Memory, func(_ context.Context, cfg broker.Config) (broker.Broker, error) {
		return New(cfg.Logger), nil
	})
}
