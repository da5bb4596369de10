// Package amqp is the RabbitMQ broker, through watermill-amqp/v3's durable
// pub/sub topology. It registers itself as broker.AMQP.
package amqp

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	wmamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/adapters/broker"
)

// New connects to RabbitMQ through watermill-amqp/v3 with its
// durable pub/sub topology: one durable fanout exchange per topic, and one
// durable queue per (topic, consumer group) named "<topic>_<group>", bound to
// it. Processes of the same group share the queue (competing consumers);
// every group gets every message. Messages are persistent.
//
// Trap: a fanout exchange drops what is published while no queue is bound.
// The router therefore declares each handler's queue (SubscribeInitialize)
// before the forwarder can publish, and the queue, being durable, keeps
// messages while its processes are down. A topic with no consumer group,
// like the poison topic, keeps nothing unless an operator binds a queue to
// its exchange.
func New(url string, logger watermill.LoggerAdapter) (broker.Broker, error) {
	if url == "" {
		return broker.Broker{}, errors.New("amqp: URL is required")
	}
	pub, err := wmamqp.NewPublisher(wmamqp.NewDurablePubSubConfig(url, nil), logger)
	if err != nil {
		return broker.Broker{}, fmt.Errorf("amqp: publisher: %w", err)
	}
	return broker.Broker{
		Name:      broker.AMQP,
		Publisher: pub,
		Subscriber: func(group string) (message.Subscriber, error) {
			// Each subscriber opens its own connection and closes it on Close.
			sub, err := wmamqp.NewSubscriber(wmamqp.NewDurablePubSubConfig(url, wmamqp.GenerateQueueNameTopicNameWithSuffix(group)), logger)
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

func init() {
	broker.Register(broker.AMQP, func(_ context.Context, cfg broker.Config) (broker.Broker, error) {
		return New(cfg.URL, cfg.Logger)
	})
}
