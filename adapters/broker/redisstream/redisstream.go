// Package redisstream is the Redis Streams broker, through
// watermill-redisstream. It registers itself as broker.Redis.
package redisstream

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	wmredis "github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/redis/go-redis/v9"
)

// New uses Redis Streams through watermill-redisstream: one stream
// per topic, one Redis consumer group per handler (XREADGROUP), starting from
// the stream's first entry so nothing published before the group existed is
// missed. A process that dies with messages pending has them claimed by
// another consumer of its group after they were idle for a minute.
// Streams are not trimmed: size them with MAXLEN in Redis if needed.
//
// Trap: the redisstream Subscriber (and Publisher) closes the client it is
// given on Close. A client shared between subscribers would be closed by the
// first handler to stop, breaking the others; so every subscriber, the
// publisher and the readiness check each get their own client.
func New(url string, logger watermill.LoggerAdapter) (broker.Broker, error) {
	if url == "" {
		return broker.Broker{}, errors.New("redis: URL is required")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return broker.Broker{}, fmt.Errorf("redis: %w", err)
	}
	newClient := func() *redis.Client { o := *opts; return redis.NewClient(&o) }

	pub, err := wmredis.NewPublisher(wmredis.PublisherConfig{Client: newClient()}, logger)
	if err != nil {
		return broker.Broker{}, fmt.Errorf("redis: publisher: %w", err)
	}
	pinger := newClient()
	return broker.Broker{
		Name:      broker.Redis,
		Publisher: pub,
		Subscriber: func(group string) (message.Subscriber, error) {
			sub, err := wmredis.NewSubscriber(wmredis.SubscriberConfig{
				Client:        newClient(), // never shared: Close closes it
				ConsumerGroup: group,
				OldestId:      "0",
				// Bound the first XREADGROUP too, so Close does not hang on it.
				DisableIndefiniteInitialBlock: true,
			}, logger)
			if err != nil {
				return nil, fmt.Errorf("redis: subscriber for %s: %w", group, err)
			}
			return sub, nil
		},
		Ping:  func(ctx context.Context) error { return pinger.Ping(ctx).Err() },
		Close: func() error { return errors.Join(pub.Close(), pinger.Close()) },
	}, nil
}

func init() {
	broker.Register(broker.Redis, func(_ context.Context, cfg broker.Config) (broker.Broker, error) {
		return New(cfg.URL, cfg.Logger)
	})
}
