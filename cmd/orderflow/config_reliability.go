package main

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// ReliabilityConfig holds the settings of deduplication and idempotency.
type ReliabilityConfig struct {
	// Dedup chooses the consumers' deduplication store: "store" (an inbox
	// table in the event store's database), "redis" or "off".
	Dedup          string
	DedupRedisURL  string
	DedupRetention time.Duration
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL time.Duration
	// BrokerPostgresURL, when set, connects the Postgres broker separately
	// from the event store (another server, or the same through a proxy).
	BrokerPostgresURL string
}

func (c *ReliabilityConfig) setDefaults() {
	if c.Dedup == "" {
		c.Dedup = "store"
	}
	if c.DedupRetention == 0 {
		c.DedupRetention = 7 * 24 * time.Hour
	}
	if c.IdempotencyTTL == 0 {
		c.IdempotencyTTL = 24 * time.Hour
	}
}

// Validate reports every bad setting.
func (c ReliabilityConfig) Validate() error {
	var errs []error
	switch c.Dedup {
	case "store", "off":
	case "redis":
		if c.DedupRedisURL == "" {
			errs = append(errs, errors.New("--dedup=redis needs --dedup-redis-url"))
		}
	default:
		errs = append(errs, fmt.Errorf("--dedup must be store, redis or off, not %q", c.Dedup))
	}
	if c.DedupRetention <= 0 || c.IdempotencyTTL <= 0 {
		errs = append(errs, errors.New("--dedup-retention and --idempotency-ttl must be positive"))
	}
	return errors.Join(errs...)
}

func (c *ReliabilityConfig) bindFlags(fs *flag.FlagSet, dur func(*time.Duration, string, time.Duration, string)) {
	def := ReliabilityConfig{}
	def.setDefaults()
	fs.StringVar(&c.Dedup, "dedup", envOr("dedup", def.Dedup),
		"consumers' deduplication store: store (inbox table in the event store's database), redis or off (env "+envName("dedup")+")")
	fs.StringVar(&c.DedupRedisURL, "dedup-redis-url", envOr("dedup-redis-url", ""),
		"Redis URL (redis://host:6379/0) of the deduplication store when --dedup=redis (env "+envName("dedup-redis-url")+")")
	fs.StringVar(&c.BrokerPostgresURL, "broker-postgres-url", envOr("broker-postgres-url", ""),
		"PostgreSQL URL of the broker when it is not the event store's database (env "+envName("broker-postgres-url")+")")
	dur(&c.DedupRetention, "dedup-retention", def.DedupRetention, "how long a handled message id is remembered")
	dur(&c.IdempotencyTTL, "idempotency-ttl", def.IdempotencyTTL, "how long an Idempotency-Key and its response are kept")
}
