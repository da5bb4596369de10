package service

import (
	"log/slog"
	"time"

	"github.com/orderflow/orderflow/router"
)

// OutboxConfig is how the forwarder moves the outbox, how long forwarded
// outbox rows are kept, and how often they are deleted.
type OutboxConfig struct {
	// ForwardBatchSize is the most outbox rows one forwarder batch reads
	// and publishes in one broker call.
	ForwardBatchSize      int
	OutboxRetention       time.Duration
	OutboxCleanupInterval time.Duration
}

func (c *OutboxConfig) setDefaults() {
	if c.ForwardBatchSize == 0 {
		c.ForwardBatchSize = 100
	}
	if c.OutboxRetention == 0 {
		c.OutboxRetention = time.Hour
	}
	if c.OutboxCleanupInterval == 0 {
		c.OutboxCleanupInterval = time.Minute
	}
}

// outboxCleaner deletes the outbox rows the forwarder moved more than
// OutboxRetention ago, every OutboxCleanupInterval. It logs its own errors
// and tries again next round.
func outboxCleaner(cfg Config, st *Adapters, logger *slog.Logger) (*router.OutboxCleaner, error) {
	return router.NewOutboxCleaner(router.OutboxCleanupConfig{
		Delete:    st.cleanOutbox,
		Retention: cfg.OutboxRetention,
		Interval:  cfg.OutboxCleanupInterval,
		Logger:    logger,
	})
}
