package service

import (
	"errors"
	"fmt"
	"time"

	"github.com/orderflow/orderflow/internal/defaults"
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
	// MaxFailedDeliveries: see router.Reliability.MaxFailedDeliveries
	// (default 8; negative never parks a transient failure).
	MaxFailedDeliveries int
	// RetryBackoff and MaxRetryBackoff: the retry queue's wait after a
	// message's first failed delivery, doubled per further failure up to
	// the maximum (router.Reliability).
	RetryBackoff, MaxRetryBackoff time.Duration
	// BrokerPostgresURL, when set, connects the Postgres broker separately
	// from the event store (another server, or the same through a proxy).
	BrokerPostgresURL string
}

func (c *ReliabilityConfig) setDefaults() {
	defaults.Set(&c.Dedup, "store")
	defaults.Set(&c.DedupRetention, 7*24*time.Hour)
	defaults.Set(&c.IdempotencyTTL, 24*time.Hour)
	defaults.Set(&c.MaxFailedDeliveries, 8)
	defaults.Set(&c.RetryBackoff, time.Second)
	defaults.Set(&c.MaxRetryBackoff, 5*time.Minute)
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
	if c.RetryBackoff <= 0 || c.MaxRetryBackoff < c.RetryBackoff {
		errs = append(errs, errors.New("--retry-backoff must be positive and at most --max-retry-backoff"))
	}
	if c.DedupRetention <= 0 || c.IdempotencyTTL <= 0 {
		errs = append(errs, errors.New("--dedup-retention and --idempotency-ttl must be positive"))
	}
	return errors.Join(errs...)
}
