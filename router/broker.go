package router

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Broker is the event backbone between the outbox forwarder and the handlers.
type Broker struct {
	// Name is the --broker value that chose it.
	Name string
	// Publisher publishes to broker topics; the forwarder and the poison
	// queue use it.
	Publisher message.Publisher
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
