// Package redisstream is the Redis Streams broker, through
// watermill-redisstream. It registers itself as broker.Redis.
package redisstream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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
// another consumer of its group after they were idle for a minute; one that
// closes its subscriber hands its pending messages over at once (handover).
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
			consumer := watermill.NewShortUUID()
			sub, err := wmredis.NewSubscriber(wmredis.SubscriberConfig{
				Client:        newClient(), // never shared: Close closes it
				Consumer:      consumer,
				ConsumerGroup: group,
				OldestId:      "0",
				BlockTime:     blockTime,
				MaxIdleTime:   maxIdleTime,
				// Bound the first XREADGROUP too, so Close does not hang on it.
				DisableIndefiniteInitialBlock: true,
			}, logger)
			if err != nil {
				return nil, fmt.Errorf("redis: subscriber for %s: %w", group, err)
			}
			return &subscriber{Subscriber: sub, client: newClient(), group: group, consumer: consumer}, nil
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

const (
	// blockTime bounds each XREADGROUP; Close waits it out before the
	// handover (watermill-redisstream's default).
	blockTime = 100 * time.Millisecond
	// maxIdleTime: a pending message idle this long is claimed by another
	// consumer of the group (watermill-redisstream's default).
	maxIdleTime = time.Minute
)

// subscriber is watermill-redisstream's Subscriber with a handover on Close.
//
// Trap: Close stops the read loop, but an XREADGROUP it had already sent
// stays blocked in Redis for up to blockTime, and an entry added meanwhile
// is delivered into this consumer's pending list although no handler will
// ever see it. Another consumer claims it only after maxIdleTime, behind
// everything published later: a restart reorders the group by a minute.
// So Close waits out blockTime and then marks whatever this consumer still
// has pending as idle for maxIdleTime (XCLAIM to itself with IDLE); the next
// subscriber of the group claims it first thing, before reading new entries.
type subscriber struct {
	*wmredis.Subscriber
	client          *redis.Client
	group, consumer string

	mu     sync.Mutex
	topics []string
	closed bool
}

func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	s.topics = append(s.topics, topic)
	s.mu.Unlock()
	return s.Subscriber.Subscribe(ctx, topic)
}

func (s *subscriber) Close() error {
	err := s.Subscriber.Close()
	s.mu.Lock()
	topics, closed := s.topics, s.closed
	s.topics, s.closed = nil, true
	s.mu.Unlock()
	if closed {
		return err
	}
	if len(topics) > 0 {
		time.Sleep(blockTime + 50*time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, topic := range topics {
			err = errors.Join(err, s.handOver(ctx, topic))
		}
	}
	return errors.Join(err, s.client.Close())
}

// handOver makes this consumer's pending entries of topic claimable now,
// a page at a time (they stay this consumer's, so each page starts after
// the last).
func (s *subscriber) handOver(ctx context.Context, topic string) error {
	const page = 100
	start := "-"
	for {
		pending, err := s.client.XPendingExt(ctx, &redis.XPendingExtArgs{
			Stream: topic, Group: s.group, Consumer: s.consumer,
			Start: start, End: "+", Count: page,
		}).Result()
		if err != nil {
			return fmt.Errorf("redis: hand over %s pending of %s: %w", s.group, topic, err)
		}
		if len(pending) == 0 {
			return nil
		}
		args := []any{"XCLAIM", topic, s.group, s.consumer, 0}
		for _, p := range pending {
			args = append(args, p.ID)
		}
		args = append(args, "IDLE", maxIdleTime.Milliseconds(), "JUSTID")
		if err := s.client.Do(ctx, args...).Err(); err != nil {
			return fmt.Errorf("redis: hand over %s pending of %s: %w", s.group, topic, err)
		}
		if len(pending) < page {
			return nil
		}
		start = "(" + pending[len(pending)-1].ID
	}
}
