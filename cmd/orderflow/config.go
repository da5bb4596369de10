package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the binary. Each has a flag and an environment
// variable of the same name (ORDERFLOW_ + upper snake case); a flag given on
// the command line wins over the environment.
type Config struct {
	HTTPAddr        string
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
	PaymentGateway       string
	SandboxLatency       time.Duration
	SandboxLateAfter     time.Duration
	WebhookURL           string
	WebhookSecret        string

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

func (c *Config) setDefaults() {
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.ReadWait == 0 {
		c.ReadWait = 2 * time.Second
	}
	if c.PollInterval == 0 {
		c.PollInterval = 50 * time.Millisecond
	}
	c.TopologyConfig.setDefaults()
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 100
	}
	c.Reliability.setDefaults()
	c.HTTP.setDefaults()
	c.setCheckoutDefaults()
	c.BrokerConfig.setDefaults(c.Embedded())
	c.OutboxConfig.setDefaults()
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

// bindFlags declares the flags of cmd on fs, reading defaults from the
// environment. It is the one place settings are documented (--help).
func (c *Config) bindFlags(fs *flag.FlagSet, serve bool) {
	def := Config{}
	def.setDefaults()
	str := func(p *string, name, value, usage string) {
		fs.StringVar(p, name, envOr(name, value), usage+" (env "+envName(name)+")")
	}
	str(&c.PostgresURL, "postgres-url", "", "PostgreSQL URL; when set, Postgres replaces the embedded SQLite store and broker")
	str(&c.DataDir, "data-dir", def.DataDir, "directory of the embedded SQLite database")
	str(&c.LogLevel, "log-level", def.LogLevel, "debug, info, warn or error")
	str(&c.LogFormat, "log-format", def.LogFormat, "text or json")
	if !serve {
		return
	}
	str(&c.HTTPAddr, "http-addr", def.HTTPAddr, "address the HTTP API listens on")
	dur := func(p *time.Duration, name string, value time.Duration, usage string) {
		v := value
		if s, ok := os.LookupEnv(envName(name)); ok {
			if d, err := time.ParseDuration(s); err == nil {
				v = d
			}
		}
		fs.DurationVar(p, name, v, usage+" (env "+envName(name)+")")
	}
	dur(&c.ShutdownTimeout, "shutdown-timeout", def.ShutdownTimeout, "how long SIGTERM waits for requests and handlers in flight")
	dur(&c.ReadWait, "read-wait", def.ReadWait, "how long GET ?min_version= waits for the read model")
	dur(&c.PollInterval, "poll-interval", def.PollInterval, "how often SQL subscribers poll for new messages when idle")
	snapEvery := def.SnapshotEvery
	if v, err := strconv.Atoi(envOr("snapshot-every", "")); err == nil {
		snapEvery = v
	}
	fs.IntVar(&c.SnapshotEvery, "snapshot-every", snapEvery,
		"take an order snapshot every this many events (env "+envName("snapshot-every")+")")
	c.Reliability.bindFlags(fs, dur)
	c.HTTP.bindFlags(fs, dur)
	dur(&c.CheckoutDeadline, "checkout-deadline", def.CheckoutDeadline, "how long checkout waits for the payment provider before it cancels the order (payment_timeout)")
	dur(&c.DeadlineScanInterval, "deadline-scan-interval", def.DeadlineScanInterval, "how often the persisted checkout deadlines are scanned")
	str(&c.PaymentGateway, "payment-gateway", def.PaymentGateway, "payment provider: sandbox (the provider's test mode, its state kept in the store's database, so durable and shared by every process: tok_visa approves, tok_chargeDeclined declines, tok_timeout answers after the checkout deadline)")
	dur(&c.SandboxLatency, "payment-sandbox-latency", def.SandboxLatency, "latency of every sandbox provider call")
	c.bindBreakerFlags(fs, dur)
	dur(&c.SandboxLateAfter, "payment-sandbox-late-after", def.SandboxLateAfter, "when the sandbox answers tok_timeout (0: twice the checkout deadline)")
	str(&c.WebhookURL, "webhook-url", "", "when set, every notification (order confirmed, cancelled, shipped) is also POSTed here, retried with backoff")
	str(&c.WebhookSecret, "webhook-secret", "", "HMAC-SHA256 key of the webhook's Orderflow-Signature header; required with --webhook-url")
	c.bindBrokerFlags(fs, str)
	c.OutboxConfig.bindFlags(fs)
	fs.BoolVar(&c.AutoMigrate, "auto-migrate", envOr("auto-migrate", "true") == "true",
		"apply database migrations at start (env "+envName("auto-migrate")+")")
	c.TopologyConfig.bindFlags(fs)
}

func envName(flagName string) string {
	return "ORDERFLOW_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func envOr(flagName, def string) string {
	if v, ok := os.LookupEnv(envName(flagName)); ok {
		return v
	}
	return def
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("--log-level must be debug, info, warn or error, not %q", s)
	}
	return l, nil
}

func newLogger(c Config, w *os.File) *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
