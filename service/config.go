// Package service is the composition root of orderflow: Config holds every
// setting (defaults, validation), Open assembles the stores and the broker a
// process runs on (adapters.go), and Main runs the whole service, each
// long-running component stopped in the one order components.go documents.
// cmd/orderflow binds Config to flags and runs Main; the end-to-end tests
// (e2e/) run the same Main in-process.
package service

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/internal/defaults"
	"github.com/orderflow/orderflow/internal/telemetry"
)

// Config is every setting of the service. The binary (cmd/orderflow) binds
// each to a flag and an environment variable of the same name; the error
// messages of Validate name the flags.
type Config struct {
	HTTPAddr string
	// GRPCAddr is where the gRPC API listens; empty: no gRPC server.
	GRPCAddr string
	// PprofAddr is where Go's runtime profiles (/debug/pprof/) are served;
	// empty: nowhere.
	PprofAddr       string
	DataDir         string
	PostgresURL     string
	LogLevel        string
	LogFormat       string
	ShutdownTimeout time.Duration
	ReadWait        time.Duration
	PollInterval    time.Duration
	AutoMigrate     bool
	TopologyConfig
	// SnapshotEvery: an order gets a new snapshot once it is this many
	// events past its last one.
	SnapshotEvery int
	Reliability   ReliabilityConfig
	HTTP          HTTPConfig

	// Checkout saga and payment provider (see checkout.go).
	CheckoutDeadline     time.Duration
	DeadlineScanInterval time.Duration
	// CheckoutBatchSize is the most checkout units (of concurrent
	// checkouts) committed together in one transaction (saga.Batches); 1
	// commits each alone.
	CheckoutBatchSize int
	// CheckoutMaxAttempts is how many failed deadline-scan attempts a
	// checkout gets before it is parked for an operator (saga.Config).
	CheckoutMaxAttempts int
	// CheckoutRetryBackoff is the wait after a checkout's first failed
	// attempt, doubled per further failure up to CheckoutMaxRetryBackoff
	// (saga.Config). Defaults 1s and 5m.
	CheckoutRetryBackoff, CheckoutMaxRetryBackoff time.Duration
	// SagaPartitions is how many handlers (consumer groups) the checkout
	// runs over the order topic, each for the orders whose partition key
	// hashes to it (router.Config.SagaPartitions).
	SagaPartitions   int
	PaymentGateway   string
	SandboxLatency   time.Duration
	SandboxLateAfter time.Duration
	WebhookURL       string
	WebhookSecret    string
	// Tracing is the OpenTelemetry tracing of the process (OTEL_*
	// variables: telemetry.FromEnv); the zero value is off.
	Tracing telemetry.Config

	// The payment circuit breaker (see checkout.go).
	PaymentBreakerFailures int
	PaymentBreakerOpenFor  time.Duration
	// DuplicateMessagesForTests delivers every message twice to every
	// handler. Test-only: it has no flag, on purpose.
	DuplicateMessagesForTests bool
	BrokerConfig
	OutboxConfig
}

// Embedded reports whether the service runs on SQLite in DataDir.
func (c Config) Embedded() bool { return c.PostgresURL == "" }

// StoreName is the store the service runs on: sqlite or postgres.
func (c Config) StoreName() string {
	if c.Embedded() {
		return "sqlite"
	}
	return "postgres"
}

// WithDefaults returns c with every unset setting at its default: the
// configuration as NewMain runs it. The binary shows these defaults in
// --help and validates the result before it opens anything.
func (c Config) WithDefaults() Config {
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	defaults.Set(&c.HTTPAddr, "127.0.0.1:8080")
	defaults.Set(&c.DataDir, "data")
	defaults.Set(&c.LogLevel, "info")
	defaults.Set(&c.LogFormat, "text")
	defaults.Set(&c.ShutdownTimeout, 30*time.Second)
	defaults.Set(&c.ReadWait, 2*time.Second)
	defaults.Set(&c.PollInterval, 50*time.Millisecond)
	c.TopologyConfig.setDefaults()
	defaults.Set(&c.SnapshotEvery, 100)
	c.Reliability.setDefaults()
	c.HTTP.setDefaults()
	c.setCheckoutDefaults()
	c.BrokerConfig.setDefaults(c.Embedded())
	c.OutboxConfig.setDefaults()
	if c.SagaPartitions == 0 {
		c.SagaPartitions = defaultSagaPartitions(c.Broker)
	}
}

// defaultSagaPartitions is --saga-partitions's default on broker b: 2 on
// the Postgres and SQLite brokers, which hand a consumer group its messages
// one at a time, so that starting checkouts (a read and an INSERT each) is
// not one handler's sequence of round trips; 1 on the others (Kafka's
// partitions run the handler in parallel already; the rest were not
// measured).
func defaultSagaPartitions(b string) int {
	if b == broker.Postgres || b == broker.SQLite {
		return 2
	}
	return 1
}

// Validate reports every bad setting at once.
func (c Config) Validate() error {
	var errs []error
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat))
	}
	if err := c.Tracing.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.PostgresURL != "" && !strings.HasPrefix(c.PostgresURL, "postgres://") && !strings.HasPrefix(c.PostgresURL, "postgresql://") {
		errs = append(errs, errors.New("--postgres-url must be a postgres:// URL"))
	}
	for name, d := range map[string]time.Duration{"--shutdown-timeout": c.ShutdownTimeout, "--read-wait": c.ReadWait, "--poll-interval": c.PollInterval,
		"--outbox-retention": c.OutboxRetention, "--outbox-cleanup-interval": c.OutboxCleanupInterval} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", name))
		}
	}
	errs = append(errs, c.TopologyConfig.validate()...)
	if c.ForwardBatchSize < 1 || c.ForwardBatchSize > 10000 {
		errs = append(errs, errors.New("--forward-batch-size must be between 1 and 10000"))
	}
	if c.SnapshotEvery < 1 {
		errs = append(errs, errors.New("--snapshot-every must be at least 1"))
	}
	errs = append(errs, c.Reliability.Validate(), c.HTTP.Validate())
	errs = append(errs, c.validateCheckout())
	errs = append(errs, c.BrokerConfig.validate(c.Embedded()))
	return errors.Join(errs...)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("--log-level must be debug, info, warn or error, not %q", s)
	}
	return l, nil
}

// NewLogger is the process's logger, as c's LogLevel and LogFormat
// (validated) ask, writing to w.
func NewLogger(c Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	// Every line logged with the context of a span carries its trace_id
	// and span_id.
	if c.LogFormat == "json" {
		return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(telemetry.LogHandler(slog.NewTextHandler(w, opts)))
}
