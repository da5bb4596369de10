package main

import (
	"flag"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/service"
)

// flags declares flags that each have an environment variable of the same
// name (envName): the variable, when set, replaces the flag's default, and
// a flag given on the command line wins over both. A variable that does not
// parse (a duration, a number) leaves the default; a boolean variable is
// true only when it is "true". --help shows every variable's name.
type flags struct{ fs *flag.FlagSet }

// envName is the environment variable of a flag: ORDERFLOW_ and the flag's
// name in upper snake case.
func envName(flagName string) string {
	return "ORDERFLOW_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (f flags) usage(name, usage string) string { return usage + " (env " + envName(name) + ")" }

func (f flags) Str(p *string, name, value, usage string) {
	f.fs.StringVar(p, name, fromEnv(name, value, func(s string) (string, error) { return s, nil }), f.usage(name, usage))
}

func (f flags) Dur(p *time.Duration, name string, value time.Duration, usage string) {
	f.fs.DurationVar(p, name, fromEnv(name, value, time.ParseDuration), f.usage(name, usage))
}

func (f flags) Int(p *int, name string, value int, usage string) {
	f.fs.IntVar(p, name, fromEnv(name, value, strconv.Atoi), f.usage(name, usage))
}

func (f flags) Float(p *float64, name string, value float64, usage string) {
	f.fs.Float64Var(p, name, fromEnv(name, value, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }), f.usage(name, usage))
}

func (f flags) Bool(p *bool, name string, value bool, usage string) {
	f.fs.BoolVar(p, name, fromEnv(name, value, func(s string) (bool, error) { return s == "true", nil }), f.usage(name, usage))
}

// fromEnv is the value of name's variable when it is set and parses, def
// otherwise.
func fromEnv[T any](name string, def T, parse func(string) (T, error)) T {
	if s, ok := os.LookupEnv(envName(name)); ok {
		if v, err := parse(s); err == nil {
			return v
		}
	}
	return def
}

// storeFlags declares the flags of the store and the log, which every
// subcommand has.
func (f flags) storeFlags(c *service.Config) {
	def := service.Config{}.WithDefaults()
	f.Str(&c.PostgresURL, "postgres-url", "", "PostgreSQL URL; when set, Postgres replaces the embedded SQLite store and broker")
	f.Str(&c.DataDir, "data-dir", def.DataDir, "directory of the embedded SQLite database")
	f.logFlags(c)
}

// logFlags declares the log's flags (every subcommand's).
func (f flags) logFlags(c *service.Config) {
	def := service.Config{}.WithDefaults()
	f.Str(&c.LogLevel, "log-level", def.LogLevel, "debug, info, warn or error")
	f.Str(&c.LogFormat, "log-format", def.LogFormat, "text or json")
}

// brokerFlags declares the broker's flags (serve and replay-topic).
func (f flags) brokerFlags(c *service.BrokerConfig) {
	def := service.Config{}.WithDefaults().BrokerConfig
	f.Str(&c.Broker, "broker", "", "event broker: "+strings.Join(broker.Names(), ", ")+
		" (default sqlite on the embedded store, postgres with --postgres-url; memory is for development only)")
	f.Str(&c.KafkaBrokers, "kafka-brokers", def.KafkaBrokers, "comma-separated Kafka bootstrap addresses (--broker kafka)")
	f.Int(&c.KafkaPartitions, "kafka-partitions", def.KafkaPartitions, "partitions of the Kafka topics orderflow creates")
	f.Str(&c.NATSURL, "nats-url", def.NATSURL, "NATS server URL, JetStream enabled (--broker nats)")
	f.Str(&c.AMQPURL, "amqp-url", def.AMQPURL, "RabbitMQ URL (--broker amqp)")
	f.Str(&c.RedisURL, "redis-url", def.RedisURL, "Redis URL (--broker redis)")
	f.Str(&c.Namespace, "broker-namespace", "", "prefix of every broker topic and consumer group, to share one broker between deployments")
	f.Dur(&c.BrokerRetention, "broker-retention", service.DefaultBrokerRetention,
		"how long the postgres and sqlite brokers keep a message every consumer group of its topic has passed; trimmed every --outbox-cleanup-interval; 0 disables")
}

// serveFlags declares every other setting of `orderflow serve`: the one
// place they are documented (--help).
// pipelineFlags are the settings of serve that shape the pipeline's
// throughput, which bench takes too.
func (f flags) pipelineFlags(c *service.Config) {
	def := service.Config{}.WithDefaults()
	f.Int(&c.SagaPartitions, "saga-partitions", 0, "handlers (consumer groups) the checkout runs over the order topic, each for the orders whose id hashes to it: parallel checkout starts where the broker has no partitions of its own; 0: 2 on the postgres and sqlite brokers, 1 on the others; changing it starts new consumer groups, which read the topic from its start")
	f.Int(&c.CheckoutBatchSize, "checkout-batch-size", def.CheckoutBatchSize, "the most checkout units of concurrent checkouts committed together in one transaction, their events in one append (1: each alone); batches form when checkouts run concurrently (--saga-partitions, Kafka partitions)")
}

func (f flags) serveFlags(c *service.Config) {
	def := service.Config{}.WithDefaults()
	f.Str(&c.HTTPAddr, "http-addr", def.HTTPAddr, "address the HTTP API listens on")
	f.Str(&c.GRPCAddr, "grpc-addr", "", "address the gRPC API listens on (orderflow.v1, health, reflection); empty: none")
	f.Str(&c.PprofAddr, "pprof-addr", "", "address Go's runtime profiles (/debug/pprof/: heap, CPU, goroutines) are served on, a listener of their own; empty: none")
	f.Dur(&c.ShutdownTimeout, "shutdown-timeout", def.ShutdownTimeout, "how long SIGTERM waits for requests and handlers in flight")
	f.Dur(&c.ReadWait, "read-wait", def.ReadWait, "how long GET ?min_version= waits for the read model")
	f.Dur(&c.PollInterval, "poll-interval", def.PollInterval, "how often SQL subscribers poll for new messages when idle")
	f.Int(&c.SnapshotEvery, "snapshot-every", def.SnapshotEvery, "take an order snapshot every this many events")
	f.Bool(&c.AutoMigrate, "auto-migrate", true, "apply database migrations at start")

	// Reliability: deduplication and idempotency.
	f.Str(&c.Reliability.Dedup, "dedup", def.Reliability.Dedup, "consumers' deduplication store: store (inbox table in the event store's database), redis or off")
	f.Str(&c.Reliability.DedupRedisURL, "dedup-redis-url", "", "Redis URL (redis://host:6379/0) of the deduplication store when --dedup=redis")
	f.Str(&c.Reliability.BrokerPostgresURL, "broker-postgres-url", "", "PostgreSQL URL of the broker when it is not the event store's database")
	f.Dur(&c.Reliability.DedupRetention, "dedup-retention", def.Reliability.DedupRetention, "how long a handled message id is remembered")
	f.Int(&c.Reliability.MaxFailedDeliveries, "max-failed-deliveries", def.Reliability.MaxFailedDeliveries, "deliveries (each with a few retries in place) a message may fail with a transient error before the poison queue parks it; between them it waits in the retry queue, acked on its topic, so it never holds up the messages behind it; negative: never")
	f.Dur(&c.Reliability.RetryBackoff, "retry-backoff", def.Reliability.RetryBackoff, "wait in the retry queue after a message's first failed delivery; doubled per further failure")
	f.Dur(&c.Reliability.MaxRetryBackoff, "max-retry-backoff", def.Reliability.MaxRetryBackoff, "longest wait in the retry queue between two deliveries of a failing message")
	f.Dur(&c.Reliability.IdempotencyTTL, "idempotency-ttl", def.Reliability.IdempotencyTTL, "how long an Idempotency-Key and its response are kept")

	// HTTP: timeouts and API keys.
	f.Dur(&c.HTTP.ReadHeaderTimeout, "http-read-header-timeout", def.HTTP.ReadHeaderTimeout, "how long a client may take to send request headers")
	f.Dur(&c.HTTP.ReadTimeout, "http-read-timeout", def.HTTP.ReadTimeout, "how long a client may take to send a whole request")
	f.Dur(&c.HTTP.WriteTimeout, "http-write-timeout", def.HTTP.WriteTimeout, "how long the server may take to write a response")
	f.Dur(&c.HTTP.IdleTimeout, "http-idle-timeout", def.HTTP.IdleTimeout, "how long a keep-alive connection may stay idle")
	f.Str(&c.HTTP.Auth, "auth", def.HTTP.Auth, "API keys on writes and admin endpoints: auto (required unless listening on loopback without keys), keys or open")
	f.Str(&c.HTTP.APIKeysFile, "api-keys-file", "", "file of API keys, one per line")
	f.Str(&c.HTTP.APIKeys, "api-keys", "", "comma-separated API keys")
	f.Bool(&c.HTTP.AuthReads, "auth-reads", false, "require an API key on reads too")

	// Checkout saga, payment provider, notifications.
	f.Dur(&c.CheckoutDeadline, "checkout-deadline", def.CheckoutDeadline, "how long checkout waits for the payment provider before it cancels the order (payment_timeout)")
	f.Dur(&c.DeadlineScanInterval, "deadline-scan-interval", def.DeadlineScanInterval, "how often the persisted checkout deadlines are scanned")
	f.Int(&c.CheckoutMaxAttempts, "checkout-max-attempts", def.CheckoutMaxAttempts, "failed deadline-scan attempts (backing off exponentially, --checkout-retry-backoff to --checkout-max-retry-backoff) before a checkout is parked for an operator (state parked; orderflow checkouts resume)")
	f.Dur(&c.CheckoutRetryBackoff, "checkout-retry-backoff", def.CheckoutRetryBackoff, "wait after a checkout's first failed deadline-scan attempt; doubled per further failure")
	f.Dur(&c.CheckoutMaxRetryBackoff, "checkout-max-retry-backoff", def.CheckoutMaxRetryBackoff, "longest wait between a checkout's failed deadline-scan attempts")
	f.pipelineFlags(c)
	f.Str(&c.PaymentGateway, "payment-gateway", def.PaymentGateway, "payment provider: sandbox (the provider's test mode, its state kept in the store's database, so durable and shared by every process: tok_visa approves, tok_chargeDeclined declines, tok_timeout answers after the checkout deadline)")
	f.Dur(&c.SandboxLatency, "payment-sandbox-latency", def.SandboxLatency, "latency of every sandbox provider call")
	f.Dur(&c.SandboxLateAfter, "payment-sandbox-late-after", def.SandboxLateAfter, "when the sandbox answers tok_timeout (0: twice the checkout deadline)")
	f.Int(&c.PaymentBreakerFailures, "payment-breaker-failures", def.PaymentBreakerFailures,
		"consecutive payment provider failures (timeouts, provider unavailable; never declines) that open its circuit breaker")
	f.Dur(&c.PaymentBreakerOpenFor, "payment-breaker-open-for", def.PaymentBreakerOpenFor,
		"how long the open payment circuit breaker fails calls fast before it lets one probe through")
	f.Str(&c.WebhookURL, "webhook-url", "", "when set, every notification (order confirmed, cancelled, shipped) is also POSTed here, retried with backoff")
	f.Str(&c.WebhookSecret, "webhook-secret", "", "HMAC-SHA256 key of the webhook's Orderflow-Signature header; required with --webhook-url")

	f.brokerFlags(&c.BrokerConfig)

	// Outbox: forwarding and cleanup.
	f.Int(&c.ForwardBatchSize, "forward-batch-size", def.ForwardBatchSize,
		"the most outbox rows the forwarder publishes to the broker in one call; a row is acknowledged only after the broker acknowledged its whole batch")
	f.Dur(&c.OutboxRetention, "outbox-retention", def.OutboxRetention, "how long outbox rows are kept after the forwarder moved them to the broker")
	f.Dur(&c.OutboxCleanupInterval, "outbox-cleanup-interval", def.OutboxCleanupInterval, "how often forwarded outbox rows older than --outbox-retention are deleted")

	// Topology: roles and the shared read cache.
	f.Str(&c.Roles, "roles", def.Roles, "roles this process runs: all, or a comma-separated list of api, forwarder, projections, saga")
	f.Str(&c.CacheRedisURL, "cache-redis-url", "", "Redis URL of the read cache for GET /v1/orders/{id}; empty: no cache")
	f.Str(&c.CacheKeyPrefix, "cache-key-prefix", def.CacheKeyPrefix, "prefix of every cache key, to share one Redis between deployments")
	f.Dur(&c.CacheTTL, "cache-ttl", def.CacheTTL, "how long a cache entry lives at most")
}
