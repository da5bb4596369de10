package service

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/orderflow/orderflow/router"
)

// BrokerConfig chooses the event backbone between the outbox forwarder and
// the handlers. The outbox itself always lives in the event store's
// database.
type BrokerConfig struct {
	// Broker is one of router.BrokerNames. Empty: "sqlite" on the embedded
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
}

func (c *BrokerConfig) setDefaults(embedded bool) {
	if c.Broker == "" {
		c.Broker = router.BrokerPostgres
		if embedded {
			c.Broker = router.BrokerSQLite
		}
	}
	if c.KafkaBrokers == "" {
		c.KafkaBrokers = "127.0.0.1:9092"
	}
	if c.KafkaPartitions == 0 {
		c.KafkaPartitions = 6
	}
	if c.NATSURL == "" {
		c.NATSURL = "nats://127.0.0.1:4222"
	}
	if c.AMQPURL == "" {
		c.AMQPURL = "amqp://guest:guest@127.0.0.1:5672/"
	}
	if c.RedisURL == "" {
		c.RedisURL = "redis://127.0.0.1:6379/0"
	}
}

// validate checks the broker against the store it runs with.
func (c BrokerConfig) validate(embedded bool) error {
	var errs []error
	if !slices.Contains(router.BrokerNames, c.Broker) {
		errs = append(errs, fmt.Errorf("--broker must be one of %s, not %q", strings.Join(router.BrokerNames, ", "), c.Broker))
	}
	switch {
	case c.Broker == router.BrokerSQLite && !embedded:
		errs = append(errs, errors.New("--broker sqlite needs the embedded store: drop --postgres-url, or choose another broker"))
	case c.Broker == router.BrokerPostgres && embedded:
		errs = append(errs, errors.New("--broker postgres needs --postgres-url"))
	}
	if c.KafkaPartitions < 1 {
		errs = append(errs, errors.New("--kafka-partitions must be positive"))
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

func (c BrokerConfig) kafkaBrokers() []string {
	var out []string
	for _, b := range strings.Split(c.KafkaBrokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// openBroker builds the broker cfg names. builtin builds the broker that
// lives in the store's own database (sqlite or postgres), which the caller
// has already validated against the store.
func openBroker(cfg BrokerConfig, builtin func() (router.Broker, error), logger watermill.LoggerAdapter) (router.Broker, error) {
	var (
		b   router.Broker
		err error
	)
	switch cfg.Broker {
	case router.BrokerSQLite, router.BrokerPostgres:
		b, err = builtin()
	case router.BrokerKafka:
		b, err = router.NewKafkaBroker(router.KafkaConfig{Brokers: cfg.kafkaBrokers(), Partitions: int32(cfg.KafkaPartitions)}, logger)
	case router.BrokerNATS:
		b, err = router.NewNATSBroker(router.NATSConfig{URL: cfg.NATSURL}, logger)
	case router.BrokerAMQP:
		b, err = router.NewAMQPBroker(cfg.AMQPURL, logger)
	case router.BrokerRedis:
		b, err = router.NewRedisBroker(cfg.RedisURL, logger)
	case router.BrokerMemory:
		b = router.NewMemoryBroker(logger)
	default:
		err = fmt.Errorf("unknown broker %q", cfg.Broker)
	}
	if err != nil {
		return b, err
	}
	return b.WithNamespace(cfg.Namespace), nil
}
