package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

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
	cleaner, err := outbox.NewCleaner(outbox.CleanerConfig{
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

// newForwarder builds the outbox forwarder of the forwarder role: it moves
// the stack's outbox to its broker and parks rows it cannot forward in the
// router's poison queue (counted with the router's poisoned messages).
func (m *Main) newForwarder(registry prometheus.Registerer) (*outbox.Forwarder, error) {
	return outbox.NewForwarder(outbox.ForwarderConfig{
		Outbox:       m.stack.outbox,
		Broker:       m.stack.broker,
		Poison:       m.router.PoisonPublisher(),
		PoisonTopic:  router.PoisonTopic,
		BatchSize:    m.Config.ForwardBatchSize,
		PollInterval: m.Config.PollInterval,
		Registry:     registry,
		Logger:       m.Logger.With("component", "outbox_forwarder"),
	})
}

// startForwarding runs f beside the router until stopForwarding. Call it
// once the router runs: its handlers have subscribed by then, and a broker
// without persistence (memory) drops what nobody listens to yet. After
// stopForwarding it starts nothing.
func (m *Main) startForwarding(f *outbox.Forwarder) {
	m.fwdMu.Lock()
	defer m.fwdMu.Unlock()
	if m.fwdStopped {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx) // logs its own errors; returns when ctx ends
	}()
	m.fwdCancel, m.fwdDone = cancel, done
}

// stopForwarding stops the forwarder after the batch it is publishing and
// waits for it, up to the shutdown timeout. Close calls it before the
// router closes, so that its last publishes still find the handlers (the
// memory broker waits for them); the router calls it when it stops on its
// own. Later calls return at once.
func (m *Main) stopForwarding() error {
	m.fwdMu.Lock()
	m.fwdStopped = true
	cancel, done := m.fwdCancel, m.fwdDone
	m.fwdCancel = nil
	m.fwdMu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	t := time.NewTimer(m.Config.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return fmt.Errorf("the outbox forwarder did not stop within %s", m.Config.ShutdownTimeout)
	}
}
