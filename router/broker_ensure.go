package router

import (
	"context"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// topicEnsurer creates a broker-side resource for a topic (a Kafka topic
// with its partitions, a JetStream stream) the first time the process
// publishes to or subscribes to it. Brokers that need a resource to exist
// before the first publish (JetStream answers "no responders" otherwise) or
// that should not rely on auto-creation with broker defaults (Kafka's
// num.partitions is often 1) wrap their publisher and subscribers with it.
type topicEnsurer struct {
	create func(topic string) error

	mu   sync.Mutex
	done map[string]bool
}

func newTopicEnsurer(create func(topic string) error) *topicEnsurer {
	return &topicEnsurer{create: create, done: map[string]bool{}}
}

// ensure creates topic's resource once; a failure is retried on the next call.
func (e *topicEnsurer) ensure(topic string) error {
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

type ensuringPublisher struct {
	message.Publisher
	ensurer *topicEnsurer
}

func (p ensuringPublisher) Publish(topic string, msgs ...*message.Message) error {
	if err := p.ensurer.ensure(topic); err != nil {
		return err
	}
	return p.Publisher.Publish(topic, msgs...)
}

type ensuringSubscriber struct {
	message.Subscriber
	ensurer *topicEnsurer
}

func (s ensuringSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if err := s.ensurer.ensure(topic); err != nil {
		return nil, err
	}
	return s.Subscriber.Subscribe(ctx, topic)
}

// SubscribeInitialize creates the topic's resource, and whatever the inner
// subscriber initializes, ahead of Subscribe.
func (s ensuringSubscriber) SubscribeInitialize(topic string) error {
	if err := s.ensurer.ensure(topic); err != nil {
		return err
	}
	return initializeSubscription(s.Subscriber, topic)
}

// initializeSubscription creates what sub needs on the broker to receive
// topic (a queue bound to an exchange, a topic, a stream) if sub can do that
// ahead of Subscribe. router.New calls it before the forwarder can publish,
// so that a broker that drops messages nobody is bound to yet (AMQP fanout)
// keeps the first events of a new deployment.
func initializeSubscription(sub message.Subscriber, topic string) error {
	if si, ok := sub.(message.SubscribeInitializer); ok {
		return si.SubscribeInitialize(topic)
	}
	return nil
}
