package router

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
)

// NewAMQPBroker connects to RabbitMQ through watermill-amqp/v3 with its
// durable pub/sub topology: one durable fanout exchange per topic, and one
// durable queue per (topic, consumer group) named "<topic>_<group>", bound to
// it. Processes of the same group share the queue (competing consumers);
// every group gets every message. Messages are persistent.
//
// Trap: a fanout exchange drops what is published while no queue is bound.
// router.New therefore declares each handler's queue (SubscribeInitialize)
// before the forwarder can publish, and the queue, being durable, keeps
// messages while its processes are down. A topic with no consumer group,
// like the poison topic, keeps nothing unless an operator binds a queue to
// its exchange.
func NewAMQPBroker(url string, logger watermill.LoggerAdapter) (Broker, error) {
	if url == "" {
		return Broker{}, errors.New("amqp: URL is required")
	}
	pub, err := amqp.NewPublisher(amqp.NewDurablePubSubConfig(url, nil), logger)
	if err != nil {
		return Broker{}, fmt.Errorf("amqp: publisher: %w", err)
	}
	return Broker{
		Name:      BrokerAMQP,
		Publisher: pub,
		Subscriber: func(group string) (message.Subscriber, error) {
			// Each subscriber opens its own connection and closes it on Close.
			sub, err := amqp.NewSubscriber(amqp.NewDurablePubSubConfig(url, amqp.GenerateQueueNameTopicNameWithSuffix(group)), logger)
			if err != nil {
				return nil, fmt.Errorf("amqp: subscriber for %s: %w", group, err)
			}
			return sub, nil
		},
		Ping: func(context.Context) error {
			if !pub.IsConnected() {
				return errors.New("amqp: not connected")
			}
			return nil
		},
		Close: pub.Close,
	}, nil
}
