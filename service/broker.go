package service

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/orderflow/orderflow/adapters/broker"
	_ "github.com/orderflow/orderflow/adapters/broker/all" // every broker, by name
	"github.com/orderflow/orderflow/internal/defaults"
)

// BrokerConfig chooses the event backbone between the outbox forwarder and
// the handlers. The outbox itself always lives in the event store's
// database.
type BrokerConfig struct {
	// Broker is one of broker.Names(). Empty: "sqlite" on the embedded
	// store, "postgres" with --postgres-url.
	Broker          string
	KafkaBrokers    string // comma-separated host:port list
	KafkaPartitions int    // partitions of topics orderflow creates
	NATSURL         string
	AMQPURL         string
	RedisURL        string
	// Namespace prefixes every broker topic and consumer group, so that
	// several deployments or test runs can share one broker server.
	Namespace string
	// BrokerRetention is how long the brokers whose topics are tables in a
	// database (postgres, sqlite) keep a message that every consumer group
	// of its topic has passed; trimmed every OutboxCleanupInterval. Zero
	// disables trimming (the binary's --broker-retention defaults to
	// DefaultBrokerRetention); the other brokers keep their own retention.
	BrokerRetention time.Duration
}

// DefaultBrokerRetention is --broker-retention's default.
const DefaultBrokerRetention = 24 * time.Hour

func (c *BrokerConfig) setDefaults(embedded bool) {
	if c.Broker == "" {
		c.Broker = broker.Postgres
		if embedded {
			c.Broker = broker.SQLite
		}
	}
	defaults.Set(&c.KafkaBrokers, "127.0.0.1:9092")
	defaults.Set(&c.KafkaPartitions, 6)
	defaults.Set(&c.NATSURL, "nats://127.0.0.1:4222")
	defaults.Set(&c.AMQPURL, "amqp://guest:guest@127.0.0.1:5672/")
	defaults.Set(&c.RedisURL, "redis://127.0.0.1:6379/0")
}

// validate checks the broker against the store it runs with.
func (c BrokerConfig) validate(embedded bool) error {
	var errs []error
	if !slices.Contains(broker.Names(), c.Broker) {
		errs = append(errs, fmt.Errorf("--broker must be one of %s, not %q", strings.Join(broker.Names(), ", "), c.Broker))
	}
	switch {
	case c.Broker == broker.SQLite && !embedded:
		errs = append(errs, errors.New("--broker sqlite needs the embedded store: drop --postgres-url, or choose another broker"))
	case c.Broker == broker.Postgres && embedded:
		errs = append(errs, errors.New("--broker postgres needs --postgres-url"))
	}
	if c.KafkaPartitions < 1 {
		errs = append(errs, errors.New("--kafka-partitions must be positive"))
	}
	if c.BrokerRetention < 0 {
		errs = append(errs, errors.New("--broker-retention must not be negative (0 disables trimming)"))
	}
	for flag, u := range map[string]struct{ value, schemes string }{
		"--nats-url":  {c.NATSURL, "nats tls"},
		"--amqp-url":  {c.AMQPURL, "amqp amqps"},
		"--redis-url": {c.RedisURL, "redis rediss"},
	} {
		p, err := url.Parse(u.value)
		if err != nil || !slices.Contains(strings.Fields(u.schemes), p.Scheme) {
			errs = append(errs, fmt.Errorf("%s must be a URL with scheme %s", flag, strings.Join(strings.Fields(u.schemes), " or ")))
		}
	}
	// Kafka topic names allow only these; the namespace prefixes them.
	if strings.Trim(c.Namespace, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
		errs = append(errs, errors.New("--broker-namespace may contain only letters, digits, '.', '_' and '-'"))
	}
	return errors.Join(errs...)
}

// openBroker opens the broker cfg names from the registry. storeDB is the
// event store's database handle (*sql.DB or *pgxpool.Pool), which the
// brokers living in it (sqlite, postgres) need; the caller has already
// validated the broker against the store.
func openBroker(ctx context.Context, cfg BrokerConfig, storeDB any, poll time.Duration, logger watermill.LoggerAdapter) (broker.Broker, error) {
	return broker.Open(ctx, cfg.Broker, broker.Config{
		URL:          cfg.url(),
		Partitions:   cfg.KafkaPartitions,
		Namespace:    cfg.Namespace,
		PollInterval: poll,
		StoreDB:      storeDB,
		Logger:       logger,
	})
}

// url is the server address of the chosen broker ("" for those without a
// server of their own).
func (c BrokerConfig) url() string {
	switch c.Broker {
	case broker.Kafka:
		return c.KafkaBrokers
	case broker.NATS:
		return c.NATSURL
	case broker.AMQP:
		return c.AMQPURL
	case broker.Redis:
		return c.RedisURL
	}
	return ""
}
