package main

import (
	"context"
	"flag"
	"os"
	"strconv"
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

func (c *OutboxConfig) bindFlags(fs *flag.FlagSet) {
	var def OutboxConfig
	def.setDefaults()
	dur := func(p *time.Duration, name string, value time.Duration, usage string) {
		if s, ok := os.LookupEnv(envName(name)); ok {
			if d, err := time.ParseDuration(s); err == nil {
				value = d
			}
		}
		fs.DurationVar(p, name, value, usage+" (env "+envName(name)+")")
	}
	batch := def.ForwardBatchSize
	if v, err := strconv.Atoi(envOr("forward-batch-size", "")); err == nil {
		batch = v
	}
	fs.IntVar(&c.ForwardBatchSize, "forward-batch-size", batch,
		"the most outbox rows the forwarder publishes to the broker in one call; a row is acknowledged only after the broker acknowledged its whole batch (env "+envName("forward-batch-size")+")")
	dur(&c.OutboxRetention, "outbox-retention", def.OutboxRetention,
		"how long outbox rows are kept after the forwarder moved them to the broker")
	dur(&c.OutboxCleanupInterval, "outbox-cleanup-interval", def.OutboxCleanupInterval,
		"how often forwarded outbox rows older than --outbox-retention are deleted")
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
