package main

import (
	"context"
	"flag"
	"os"
	"time"

	"github.com/orderflow/orderflow/router"
)

// OutboxCleanupConfig is how long forwarded outbox rows are kept, and how
// often they are deleted.
type OutboxCleanupConfig struct {
	OutboxRetention       time.Duration
	OutboxCleanupInterval time.Duration
}

func (c *OutboxCleanupConfig) setDefaults() {
	if c.OutboxRetention == 0 {
		c.OutboxRetention = time.Hour
	}
	if c.OutboxCleanupInterval == 0 {
		c.OutboxCleanupInterval = time.Minute
	}
}

func (c *OutboxCleanupConfig) bindFlags(fs *flag.FlagSet) {
	var def OutboxCleanupConfig
	def.setDefaults()
	dur := func(p *time.Duration, name string, value time.Duration, usage string) {
		if s, ok := os.LookupEnv(envName(name)); ok {
			if d, err := time.ParseDuration(s); err == nil {
				value = d
			}
		}
		fs.DurationVar(p, name, value, usage+" (env "+envName(name)+")")
	}
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
