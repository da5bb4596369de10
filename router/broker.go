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
}
