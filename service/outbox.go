package service

import (
	"log/slog"
	"time"

	"github.com/orderflow/orderflow/internal/defaults"
	"github.com/orderflow/orderflow/outbox"
	"github.com/orderflow/orderflow/router"
	"github.com/prometheus/client_golang/prometheus"
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
	defaults.Set(&c.ForwardBatchSize, 100)
	defaults.Set(&c.OutboxRetention, time.Hour)
	defaults.Set(&c.OutboxCleanupInterval, time.Minute)
}

// outboxCleaner deletes the outbox rows the forwarder moved more than
// OutboxRetention ago, every OutboxCleanupInterval. It logs its own errors
// and tries again next round.
func outboxCleaner(cfg Config, st *Adapters, logger *slog.Logger) (*outbox.Cleaner, error) {
	return outbox.NewCleaner(outbox.CleanerConfig{
		Delete:    st.cleanOutbox,
		Retention: cfg.OutboxRetention,
		Interval:  cfg.OutboxCleanupInterval,
		Logger:    logger,
	})
}

// newForwarder builds the outbox forwarder of the forwarder role: it moves
// the adapters' outbox to their broker and parks rows it cannot forward in
// the router's poison queue (counted with the router's poisoned messages).
func (m *Main) newForwarder(registry prometheus.Registerer) (*outbox.Forwarder, error) {
	return outbox.NewForwarder(outbox.ForwarderConfig{
		Outbox:       m.stack.outbox,
		Broker:       m.stack.Broker,
		Poison:       m.router.PoisonPublisher(),
		PoisonTopic:  router.PoisonTopic,
		BatchSize:    m.Config.ForwardBatchSize,
		PollInterval: m.Config.PollInterval,
		Registry:     registry,
		Logger:       m.Logger.With("component", "outbox_forwarder"),
	})
}
