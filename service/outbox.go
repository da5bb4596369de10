package service

import (
	"context"
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

// startOutboxCleanup runs the outbox cleaner until Close.
func (m *Main) startOutboxCleanup() error {
	cleaner, err := router.NewOutboxCleaner(router.OutboxCleanupConfig{
		Delete:    m.stack.cleanOutbox,
		Retention: m.Config.OutboxRetention,
		Interval:  m.Config.OutboxCleanupInterval,
		Logger:    m.Logger,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = cleaner.Run(ctx) // logs its own errors; returns when ctx ends
	}()
	m.stopCleanup = func() { cancel(); <-done }
	return nil
}
