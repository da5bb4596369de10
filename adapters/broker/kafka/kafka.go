// Package kafka is the Kafka broker, through watermill-kafka (Sarama):
// topics created with their partitions on first use, messages keyed by
// aggregate id, one consumer group per handler, batch publishing with one
// SendMessages per batch, and a replay source that reads partitions outside
// any consumer group. It registers itself as broker.Kafka.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/internal/defaults"
	"github.com/orderflow/orderflow/internal/eventwire"
)

// Config configures the Kafka broker.
type Config struct {
	// Brokers are the bootstrap addresses (host:port).
	Brokers []string
	// Partitions is the partition count of topics this service creates; it
	// bounds how many processes share one handler's work. Default 6.
	Partitions int32
	// ReplicationFactor of topics this service creates. Default 1.
	ReplicationFactor int16
	// ClientID identifies the service in the brokers' logs. Default "orderflow".
	ClientID string
	// SessionTimeout is how long the group coordinator waits for a
	// member's heartbeat before dropping it; RebalanceTimeout how long a
	// rebalance waits for every member to rejoin, which is also how long a
	// member whose delivery is still in flight (watermill-kafka finishes it
	// before it leaves its session) can hold the whole group back. Defaults
	// 10s and 20s. RebalanceTimeout must be at least SessionTimeout and
	// under 30s (the client's read timeout).
	SessionTimeout, RebalanceTimeout time.Duration
	// HeartbeatInterval is how often a member tells the coordinator it is
	// alive. Default a third of SessionTimeout (Kafka's own ratio); it must
	// be below SessionTimeout.
	HeartbeatInterval time.Duration
}

func (c *Config) setDefaults() {
	defaults.Set(&c.Partitions, 6)
	defaults.Set(&c.ReplicationFactor, 1)
	defaults.Set(&c.ClientID, "orderflow")
	defaults.Set(&c.SessionTimeout, 10*time.Second)
	defaults.Set(&c.RebalanceTimeout, 20*time.Second)
	defaults.Set(&c.HeartbeatInterval, c.SessionTimeout/3)
}

// Validate reports missing or impossible settings.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("kafka: at least one broker address is required"))
	}
	if c.Partitions < 1 || c.ReplicationFactor < 1 {
		errs = append(errs, errors.New("kafka: partitions and replication factor must be positive"))
	}
	if c.RebalanceTimeout < c.SessionTimeout || c.RebalanceTimeout >= 30*time.Second {
		errs = append(errs, errors.New("kafka: the rebalance timeout must be at least the session timeout and under 30s"))
	}
	if c.HeartbeatInterval <= 0 || c.HeartbeatInterval >= c.SessionTimeout {
		errs = append(errs, errors.New("kafka: the heartbeat interval must be positive and below the session timeout"))
	}
	return errors.Join(errs...)
}

// kafkaProtocolVersion is the protocol Sarama speaks. Watermill's default
// (1.0) is refused by Kafka 4.x, which dropped the pre-2.1 protocols; 3.6
// works with every 3.x and 4.x broker.
var kafkaProtocolVersion = sarama.V3_6_0_0

func saramaConfig(cfg Config) *sarama.Config {
	c := sarama.NewConfig()
	c.Version = kafkaProtocolVersion
	c.ClientID = cfg.ClientID
	c.Net.DialTimeout = 5 * time.Second
	c.Metadata.Retry.Backoff = 250 * time.Millisecond

	// The forwarder acks an outbox row only after Kafka acked the message
	// on every in-sync replica.
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Producer.Retry.Max = 10
	// Sarama's default hash partitioner: the same key (the aggregate id)
	// always lands on the same partition, so one order's events stay in order.
	c.Producer.Partitioner = sarama.NewHashPartitioner

	c.Consumer.Return.Errors = true
	// A new consumer group (a new handler) starts from the oldest message,
	// not from "now": events forwarded before it first joined are not lost.
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	// Offsets are committed in the background every second, never one
	// synchronous commit per message (that makes Sarama crawl at ~25 msg/s).
	// A crash redelivers at most the last second's messages; handlers are
	// idempotent. Sarama also commits the marked offsets on a clean close.
	c.Consumer.Offsets.AutoCommit.Enable = true
	c.Consumer.Offsets.AutoCommit.Interval = time.Second

	// A JoinGroup request is answered only when the rebalance completes,
	// which the coordinator may hold for up to the rebalance timeout (while
	// it waits for the other members). Sarama reads every response within
	// Net.ReadTimeout, so with its defaults (30 s read, 60 s rebalance) a
	// rebalance that waits for a killed member outlasts the read: the client
	// drops the connection, joins again and restarts the wait, and the group
	// can loop like that for as long as members keep timing out
	// (IBM/sarama#2820). The rebalance timeout therefore stays below the
	// read timeout. It also bounds how long a revoked partition's handler
	// may take to finish, and ours take milliseconds.
	c.Net.ReadTimeout = 30 * time.Second
	c.Consumer.Group.Session.Timeout = cfg.SessionTimeout
	c.Consumer.Group.Heartbeat.Interval = cfg.HeartbeatInterval
	c.Consumer.Group.Rebalance.Timeout = cfg.RebalanceTimeout
	return c
}

// kafkaMarshaler keys every message by eventwire.KeyPartition (the aggregate
// id); messages without one (none of ours) are keyed by their UUID.
var kafkaMarshaler = wmkafka.NewWithPartitioningMarshaler(func(_ string, msg *message.Message) (string, error) {
	if key := msg.Metadata.Get(eventwire.KeyPartition); key != "" {
		return key, nil
	}
	return msg.UUID, nil
})

// New connects to Kafka through watermill-kafka (Sarama). Topics
// are created on first use with cfg.Partitions partitions (an existing
// topic is used as it is). Each handler is its own consumer group, so
// processes running the same handler share its partitions.
func New(cfg Config, logger watermill.LoggerAdapter) (broker.Broker, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return broker.Broker{}, err
	}
	sc := saramaConfig(cfg)
	client, err := sarama.NewClient(cfg.Brokers, sc)
	if err != nil {
		return broker.Broker{}, fmt.Errorf("kafka: connect to %v: %w", cfg.Brokers, err)
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		_ = client.Close()
		return broker.Broker{}, fmt.Errorf("kafka: admin client: %w", err)
	}
	topicDetail := &sarama.TopicDetail{NumPartitions: cfg.Partitions, ReplicationFactor: cfg.ReplicationFactor}
	ensurer := broker.NewTopicEnsurer(func(topic string) error {
		err := admin.CreateTopic(topic, topicDetail, false)
		if errors.Is(err, sarama.ErrTopicAlreadyExists) {
			return nil
		}
		return err
	})
	pub, err := wmkafka.NewPublisher(wmkafka.PublisherConfig{
		Brokers:               cfg.Brokers,
		Marshaler:             kafkaMarshaler,
		OverwriteSaramaConfig: sc,
	}, logger)
	if err != nil {
		_ = admin.Close()
		return broker.Broker{}, fmt.Errorf("kafka: publisher: %w", err)
	}
	batch, err := newKafkaBatchProducer(cfg, ensurer)
	if err != nil {
		_ = pub.Close()
		_ = admin.Close()
		return broker.Broker{}, err
	}
	return broker.Broker{
		Name:         broker.Kafka,
		Publisher:    ensurer.Publisher(pub),
		PublishBatch: batch.publish,
		Subscriber: func(group string) (message.Subscriber, error) {
			sub, err := wmkafka.NewSubscriber(wmkafka.SubscriberConfig{
				Brokers:               cfg.Brokers,
				Unmarshaler:           kafkaMarshaler,
				OverwriteSaramaConfig: sc,
				ConsumerGroup:         group,
				// Its SubscribeInitialize creates the topic like the ensurer.
				InitializeTopicDetails: topicDetail,
			}, logger)
			if err != nil {
				return nil, fmt.Errorf("kafka: subscriber for %s: %w", group, err)
			}
			return ensurer.Subscriber(sub), nil
		},
		Ping: func(ctx context.Context) error {
			return withContext(ctx, func() error { _, _, err := admin.DescribeCluster(); return err })
		},
		Replay: ReplaySource{Config: cfg},
		Close:  func() error { return errors.Join(batch.close(), pub.Close(), admin.Close()) },
	}, nil
}

// withContext runs a call that takes no context, giving up (but not
// cancelling it) when ctx ends.
func withContext(ctx context.Context, call func() error) error {
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func init() {
	broker.Register(broker.Kafka, func(_ context.Context, cfg broker.Config) (broker.Broker, error) {
		return New(Config{Brokers: splitAddrs(cfg.URL), Partitions: int32(cfg.Partitions)}, cfg.Logger)
	})
}

// splitAddrs reads a comma-separated host:port list, skipping blanks.
func splitAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
