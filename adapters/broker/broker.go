// Package broker is what the rest of the service knows of an event broker:
// the Broker value (a publisher, a subscriber per consumer group, a
// readiness check, a replay source), the topic namespace wrapper, the replay
// types, and a registry of the brokers that can be opened by name.
//
// Each broker is an adapter package of its own below this one (kafka, nats,
// amqp, redisstream, sql, memory) that registers its constructors in init;
// package all imports every one of them. This package imports no broker
// client, only Watermill and the standard library, so a package that needs
// the Broker type (the router, the outbox forwarder) links none.
//
// Config is one struct for every broker rather than one per broker, because
// the composition root fills it from flags before it knows which broker the
// registry will pick. The brokers that live in the event store's own
// database (postgres, sqlite) need its handle; Config.StoreDB carries it as
// an any, which those constructors type-assert (*pgxpool.Pool,
// *database/sql.DB), so that this package stays free of database drivers and
// the composition root still opens every broker with the same one call.
package broker

import (
	"context"
	"fmt"
	"time"

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
	// Trim deletes at most limit messages, of every topic but except, that
	// every consumer group of their topic has passed and that were
	// published more than retention ago, and returns how many it deleted
	// (the brokers whose topics are tables in the store's database; the
	// service runs it every --outbox-cleanup-interval, see
	// --broker-retention). Nil when the broker keeps its own retention.
	Trim func(ctx context.Context, retention time.Duration, limit int, except ...string) (int64, error)
	// Close releases the publisher and the broker's connections; call it
	// after the router has stopped. Nil when there is nothing to release.
	Close func() error
}

// TopicMessage is a message and the broker topic it is bound for.
type TopicMessage struct {
	Topic string
	Msg   *message.Message
}

// PublishInOrder publishes msgs with PublishBatch, or with Publisher in runs
// of one topic, keeping their order. It returns nil only once every message
// was published; on error any of them may or may not have been.
func (b Broker) PublishInOrder(msgs []TopicMessage) error {
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
