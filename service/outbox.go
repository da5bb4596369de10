package service

import (
	"context"
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

// brokerTrimmer deletes the broker's messages every consumer group passed
// more than BrokerRetention ago, every OutboxCleanupInterval, in whichever
// process runs the outbox cleaner, and counts them in
// orderflow_broker_trimmed_messages_total; nil when the broker keeps its own
// retention or trimming is off. The outbox topic has its own cleaner (and
// retention) and is never trimmed here.
func brokerTrimmer(cfg Config, st *Adapters, logger *slog.Logger, registry prometheus.Registerer) (*outbox.Cleaner, error) {
	if st.Broker.Trim == nil || cfg.BrokerRetention == 0 {
		return nil, nil
	}
	trimmed := prometheus.NewCounter(prometheus.CounterOpts{Name: "orderflow_broker_trimmed_messages_total",
		Help: "Messages deleted from the SQL broker's topic tables after --broker-retention, once every consumer group passed them."})
	if err := registry.Register(trimmed); err != nil {
		return nil, err
	}
	outboxTopic, _ := eventStoreTopics()
	return outbox.NewCleaner(outbox.CleanerConfig{
		Name: "broker trim",
		Delete: func(ctx context.Context, retention time.Duration, limit int) (int64, error) {
			return st.Broker.Trim(ctx, retention, limit, outboxTopic)
		},
		Retention: cfg.BrokerRetention,
		Interval:  cfg.OutboxCleanupInterval,
		Deleted:   trimmed,
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
