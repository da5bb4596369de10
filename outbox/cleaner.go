package outbox

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/orderflow/orderflow/internal/defaults"
	"github.com/orderflow/orderflow/internal/tick"
	"github.com/prometheus/client_golang/prometheus"
)

// CleanerConfig configures Cleaner.
type CleanerConfig struct {
	// Name says what is cleaned, in logs and errors. Default "outbox cleanup"
	// (the broker's trim of its topic tables runs a Cleaner too).
	Name string
	// Delete removes at most limit outbox rows that the forwarder's
	// consumer group (ConsumerGroup) has acked and that are older
	// than retention, and returns how many it removed; for example
	// postgres.DeleteForwardedOutbox or sqlitepubsub.DeleteAcked.
	Delete func(ctx context.Context, retention time.Duration, limit int) (int64, error)
	// Retention keeps forwarded rows this long, for inspection and replay by
	// hand. Default 1h.
	Retention time.Duration
	// Interval between cleanups. Default 1m.
	Interval time.Duration
	// BatchSize bounds one DELETE, so a cleanup never holds long locks or
	// builds a huge transaction. Default 1000.
	BatchSize int
	// MaxBatches bounds the batches of one cleanup; the rest waits for the
	// next one. Default 100.
	MaxBatches int
	// Deleted, when set, counts the rows deleted.
	Deleted prometheus.Counter
	Logger  *slog.Logger
}

func (c *CleanerConfig) setDefaults() {
	defaults.Set(&c.Name, "outbox cleanup")
	defaults.Set(&c.Retention, time.Hour)
	defaults.Set(&c.Interval, time.Minute)
	defaults.Set(&c.BatchSize, 1000)
	defaults.Set(&c.MaxBatches, 100)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports missing or impossible settings.
func (c CleanerConfig) Validate() error {
	var errs []error
	if c.Delete == nil {
		errs = append(errs, errors.New(c.Name+": Delete is required"))
	}
	if c.Retention < 0 || c.Interval <= 0 || c.BatchSize < 1 || c.MaxBatches < 1 {
		errs = append(errs, errors.New(c.Name+": retention must not be negative; interval, batch size and max batches must be positive"))
	}
	return errors.Join(errs...)
}

// Cleaner periodically deletes outbox rows the forwarder has already
// moved to the broker, so that the outbox does not grow forever. It only
// ever deletes rows the forwarder acked: a row still waiting for the broker
// stays, however old. Several processes may run it at once; each DELETE is
// bounded and idempotent.
type Cleaner struct {
	cfg CleanerConfig
}

// NewCleaner validates cfg.
func NewCleaner(cfg CleanerConfig) (*Cleaner, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Cleaner{cfg: cfg}, nil
}

// Run cleans up every Interval until ctx ends; errors are logged and the
// next round tries again. It returns nil when ctx ends.
func (c *Cleaner) Run(ctx context.Context) error {
	tick.Every(ctx, c.cfg.Interval, func(ctx context.Context) bool {
		n, err := c.CleanUp(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			c.cfg.Logger.Warn(c.cfg.Name+" failed; retrying next round", "error", err, "deleted", n)
		case n > 0:
			c.cfg.Logger.Info(c.cfg.Name, "deleted", n)
		}
		return true
	})
	return nil
}

// CleanUp runs one round: batches of at most BatchSize rows until a batch
// comes back short or MaxBatches ran. It returns how many rows it deleted.
func (c *Cleaner) CleanUp(ctx context.Context) (int64, error) {
	var total int64
	for range c.cfg.MaxBatches {
		n, err := c.cfg.Delete(ctx, c.cfg.Retention, c.cfg.BatchSize)
		total += n
		if c.cfg.Deleted != nil {
			c.cfg.Deleted.Add(float64(n))
		}
		if err != nil || n < int64(c.cfg.BatchSize) {
			return total, err
		}
	}
	return total, nil
}
