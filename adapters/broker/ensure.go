package broker

import (
	"context"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// TopicEnsurer creates a broker-side resource for a topic (a Kafka topic
// with its partitions, a JetStream stream) the first time the process
// publishes to or subscribes to it. Brokers that need a resource to exist
// before the first publish (JetStream answers "no responders" otherwise) or
// that should not rely on auto-creation with broker defaults (Kafka's
// num.partitions is often 1) wrap their publisher and subscribers with it.
type TopicEnsurer struct {
	create func(topic string) error

	mu   sync.Mutex
	done map[string]bool
}

// NewTopicEnsurer returns an ensurer that calls create once per topic.
func NewTopicEnsurer(create func(topic string) error) *TopicEnsurer {
	return &TopicEnsurer{create: create, done: map[string]bool{}}
}

// Ensure creates topic's resource once; a failure is retried on the next call.
func (e *TopicEnsurer) Ensure(topic string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done[topic] {
		return nil
	}
	if err := e.create(topic); err != nil {
		return fmt.Errorf("create broker resources for topic %s: %w", topic, err)
	}
	e.done[topic] = true
	return nil
}

// Publisher wraps pub so that every topic is ensured before its first publish.
func (e *TopicEnsurer) Publisher(pub message.Publisher) message.Publisher {
	return ensuringPublisher{Publisher: pub, ensurer: e}
}

// Subscriber wraps sub so that every topic is ensured before it is
// subscribed to or initialized.
func (e *TopicEnsurer) Subscriber(sub message.Subscriber) message.Subscriber {
	return ensuringSubscriber{Subscriber: sub, ensurer: e}
}

type ensuringPublisher struct {
	message.Publisher
	ensurer *TopicEnsurer
}

func (p ensuringPublisher) Publish(topic string, msgs ...*message.Message) error {
	if err := p.ensurer.Ensure(topic); err != nil {
		return err
	}
	return p.Publisher.Publish(topic, msgs...)
}

type ensuringSubscriber struct {
	message.Subscriber
	ensurer *TopicEnsurer
}

func (s ensuringSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if err := s.ensurer.Ensure(topic); err != nil {
		return nil, err
	}
	return s.Subscriber.Subscribe(ctx, topic)
}

// SubscribeInitialize creates the topic's resource, and whatever the inner
// subscriber initializes, ahead of Subscribe.
func (s ensuringSubscriber) SubscribeInitialize(topic string) error {
	if err := s.ensurer.Ensure(topic); err != nil {
		return err
	}
	return InitializeSubscription(s.Subscriber, topic)
}

// InitializeSubscription creates what sub needs on the broker to receive
// topic (a queue bound to an exchange, a topic, a stream) if sub can do that
// ahead of Subscribe. The router calls it before the forwarder can publish,
// so that a broker that drops messages nobody is bound to yet (AMQP fanout)
// keeps the first events of a new deployment.
func InitializeSubscription(sub message.Subscriber, topic string) error {
	if si, ok := sub.(message.SubscribeInitializer); ok {
		return si.SubscribeInitialize(topic)
	}
	return nil
}
