package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
)

// The --broker values of the brokers this module has. Whatever the broker,
// the transactional outbox lives in the event store's database and the
// forwarder moves it to the broker.
const (
	Kafka    = "kafka"
	NATS     = "nats"     // NATS JetStream
	AMQP     = "amqp"     // RabbitMQ
	Redis    = "redis"    // Redis Streams
	Postgres = "postgres" // watermill-sql tables in the event store's Postgres
	SQLite   = "sqlite"   // tables in the embedded SQLite file
	Memory   = "memory"   // in-process Go channels: development only
)

// Config is what a registered constructor gets. Each broker reads the
// fields it needs and ignores the others.
type Config struct {
	// URL is the broker server's address: a URL for nats, amqp and redis
	// (nats://, amqp://, redis://), a comma-separated list of bootstrap
	// host:port for kafka. Brokers without a server ignore it.
	URL string
	// Partitions is the partition count of the topics the broker creates,
	// where topics have partitions (kafka). Zero: the broker's default.
	Partitions int
	// Namespace prefixes every topic and consumer group at the broker's
	// edge (see WithNamespace); Open applies it.
	Namespace string
	// PollInterval is how often the SQL brokers' subscribers poll when idle.
	PollInterval time.Duration
	// StoreDB is the event store's own database handle, for the brokers
	// that keep their messages in it: a *pgxpool.Pool for postgres, a
	// *database/sql.DB for sqlite. A broker that needs it reports a handle
	// of the wrong type (or none) as an error.
	StoreDB any
	Logger  watermill.LoggerAdapter
}

// Constructor opens one broker. ctx bounds the opening only, not the
// broker's life: Broker.Close ends that.
type Constructor func(ctx context.Context, cfg Config) (Broker, error)

var registry = struct {
	sync.RWMutex
	m map[string]Constructor
}{m: map[string]Constructor{}}

// Register makes a broker available to Open under name. Broker packages
// call it from init; registering a name twice panics.
func Register(name string, c Constructor) {
	registry.Lock()
	defer registry.Unlock()
	if c == nil {
		panic("broker: Register " + name + " with a nil constructor")
	}
	if _, dup := registry.m[name]; dup {
		panic("broker: Register called twice for " + name)
	}
	registry.m[name] = c
}

// Names lists the registered brokers, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Open opens the broker registered under name and wraps it in
// cfg.Namespace. An unknown name is an error listing the known ones.
func Open(ctx context.Context, name string, cfg Config) (Broker, error) {
	registry.RLock()
	c, ok := registry.m[name]
	registry.RUnlock()
	if !ok {
		return Broker{}, fmt.Errorf("unknown broker %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if cfg.Logger == nil {
		cfg.Logger = watermill.NopLogger{}
	}
	b, err := c(ctx, cfg)
	if err != nil {
		return b, err
	}
	return b.WithNamespace(cfg.Namespace), nil
}

// ErrStoreDB reports a StoreDB of the wrong type for the broker.
var ErrStoreDB = errors.New("broker: the store's database handle does not fit this broker")
