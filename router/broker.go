package router

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Broker is the event backbone between the outbox forwarder and the handlers.
type Broker struct {
	// Name is the --broker value that chose it.
	Name string
	// Publisher publishes to broker topics; the poison queue and requeue
	// use it, and the forwarder when PublishBatch is nil.
	Publisher message.Publisher
	// PublishBatch, when set, publishes messages bound for several topics in
	// as few broker round trips as the broker allows, and returns nil only
	// once the broker acknowledged every one of them. On error any of them
	// may or may not have been published. Messages of one topic and one key
	// go out in slice order. The outbox forwarder uses it (Kafka: one
	// Sarama SendMessages per batch); nil means Publisher.Publish, once per
	// run of consecutive messages of one topic.
	PublishBatch func(msgs []TopicMessage) error
	// Subscriber returns a new subscriber in the given consumer group: every
	// handler gets its own group so each sees every event once.
	Subscriber func(consumerGroup string) (message.Subscriber, error)
	// Ping reports whether the broker is reachable (readiness).
	Ping func(ctx context.Context) error
	// Replay reads a topic from an offset or a time for replay-topic; nil
	// when the broker cannot.
	Replay ReplaySource
	// Close releases the publisher and the broker's connections; call it
	// after the router has stopped. Nil when there is nothing to release.
	Close func() error
}

// TopicMessage is a message and the broker topic it is bound for.
type TopicMessage struct {
	Topic string
	Msg   *message.Message
}

// publishBatch publishes msgs with PublishBatch, or with Publisher in runs of
// one topic, keeping their order.
func (b Broker) publishBatch(msgs []TopicMessage) error {
	if b.PublishBatch != nil {
		return b.PublishBatch(msgs)
	}
	for start := 0; start < len(msgs); {
		end := start + 1
		for end < len(msgs) && msgs[end].Topic == msgs[start].Topic {
			end++
		}
		run := make([]*message.Message, 0, end-start)
		for _, m := range msgs[start:end] {
			run = append(run, m.Msg)
		}
		if err := b.Publisher.Publish(msgs[start].Topic, run...); err != nil {
			return fmt.Errorf("publish %d messages to %s: %w", len(run), msgs[start].Topic, err)
		}
		start = end
	}
	return nil
}

// Shutdown calls b.Close if there is one.
func (b Broker) Shutdown() error {
	if b.Close == nil {
		return nil
	}
	return b.Close()
}

// The --broker values. Each names one Broker constructor in this package
// (router/broker_<name>.go). Whatever the broker, the transactional outbox
// lives in the event store's database and the forwarder moves it to the
// broker.
const (
	BrokerKafka    = "kafka"
	BrokerNATS     = "nats"     // NATS JetStream
	BrokerAMQP     = "amqp"     // RabbitMQ
	BrokerRedis    = "redis"    // Redis Streams
	BrokerPostgres = "postgres" // watermill-sql tables in the event store's Postgres
	BrokerSQLite   = "sqlite"   // tables in the embedded SQLite file
	BrokerMemory   = "memory"   // in-process Go channels: development only
)

// BrokerNames lists every broker --broker accepts.
var BrokerNames = []string{BrokerKafka, BrokerNATS, BrokerAMQP, BrokerRedis, BrokerPostgres, BrokerSQLite, BrokerMemory}
