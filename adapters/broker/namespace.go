package broker

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
)

// WithNamespace returns b with every topic and consumer group prefixed by
// namespace, so that several deployments (or parallel test runs) can share
// one Kafka, NATS, RabbitMQ or Redis without seeing each other's messages.
// The prefix applies at the broker's edge only: the outbox rows, the topic
// and handler constants and the metrics keep their documented names. Broker
// resources derived from topics (Kafka topics, JetStream streams and
// consumers, AMQP exchanges and queues, Redis streams) carry the prefix too.
// An empty namespace returns b unchanged.
func (b Broker) WithNamespace(namespace string) Broker {
	if namespace == "" {
		return b
	}
	pub := b.Publisher
	sub := b.Subscriber
	b.Publisher = namespacedPublisher{pub: pub, prefix: namespace}
	if batch := b.PublishBatch; batch != nil {
		b.PublishBatch = func(msgs []TopicMessage) error {
			prefixed := make([]TopicMessage, len(msgs))
			for i, m := range msgs {
				prefixed[i] = TopicMessage{Topic: namespace + m.Topic, Msg: m.Msg}
			}
			return batch(prefixed)
		}
	}
	b.Subscriber = func(group string) (message.Subscriber, error) {
		s, err := sub(namespace + group)
		if err != nil {
			return nil, err
		}
		return namespacedSubscriber{sub: s, prefix: namespace}, nil
	}
	if b.Replay != nil {
		b.Replay = namespacedReplay{src: b.Replay, prefix: namespace}
	}
	return b
}

// namespacedReplay reads the prefixed topic, so replay-topic takes the
// documented topic names whatever the namespace.
type namespacedReplay struct {
	src    ReplaySource
	prefix string
}

func (r namespacedReplay) Read(ctx context.Context, topic string, from ReplayFrom, fn func(StoredMessage) error) error {
	return r.src.Read(ctx, r.prefix+topic, from, fn)
}

type namespacedPublisher struct {
	pub    message.Publisher
	prefix string
}

func (p namespacedPublisher) Publish(topic string, msgs ...*message.Message) error {
	return p.pub.Publish(p.prefix+topic, msgs...)
}

func (p namespacedPublisher) Close() error { return p.pub.Close() }

type namespacedSubscriber struct {
	sub    message.Subscriber
	prefix string
}

func (s namespacedSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	return s.sub.Subscribe(ctx, s.prefix+topic)
}

func (s namespacedSubscriber) Close() error { return s.sub.Close() }

func (s namespacedSubscriber) SubscribeInitialize(topic string) error {
	return InitializeSubscription(s.sub, s.prefix+topic)
}
