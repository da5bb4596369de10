package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/orderflow/orderflow/adapters/broker"
	sqlbroker "github.com/orderflow/orderflow/adapters/broker/sql"
	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
	pgmigrations "github.com/orderflow/orderflow/migrations/postgres"
	"github.com/orderflow/orderflow/outbox"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
)

// stack is the set of outbound adapters one process runs on.
type stack struct {
	events ports.EventStore
	orders ports.OrderSummaryStore
	snaps  ports.SnapshotStore
	cps    ports.CheckpointStore
	shadow ports.ShadowOrderSummary
	// checkouts is the checkout saga's state, in the same database.
	checkouts ports.CheckoutStore
	// notifications keeps the notifications sent about orders.
	notifications ports.NotificationStore
	// paymentSandbox builds the sandbox payment provider on the same
	// database, where its authorizations outlive the process and are shared
	// by every process of the service.
	paymentSandbox func(paymentsandbox.Config) *paymentsandbox.Gateway
	outbox         outbox.Source // the forwarder's reader of outbox.Topic
	broker         broker.Broker
	// Reliability stores, in the event store's database.
	poison      ports.PoisonStore
	inbox       ports.DedupStore
	idempotency ports.IdempotencyStore
	// cleanOutbox deletes outbox rows the forwarder has acked (see
	// outbox.CleanerConfig.Delete).
	cleanOutbox func(ctx context.Context, retention time.Duration, limit int) (int64, error)
	ping        func(ctx context.Context) error
	close       func() error
}

// sqlitePath is the embedded database file inside the data directory.
func sqlitePath(cfg Config) string { return filepath.Join(cfg.DataDir, "orderflow.db") }

func openStack(ctx context.Context, cfg Config, logger *slog.Logger) (*stack, error) {
	if cfg.Embedded() {
		return openEmbedded(ctx, cfg, watermill.NewSlogLogger(logger))
	}
	return openPostgres(ctx, cfg, logger)
}

// applyMigrations brings the store's schema up to date, logging what it
// applied.
func applyMigrations(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if cfg.Embedded() {
		db, err := sqlite.Open(ctx, sqlitePath(cfg)) // Open migrates
		if err != nil {
			return err
		}
		return db.Close()
	}
	pool, err := pgxpool.New(ctx, cfg.PostgresURL)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer pool.Close()
	return migratePostgres(ctx, pool, logger)
}

func migratePostgres(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	db := stdlib.OpenDBFromPool(pool)
	applied, err := pgmigrations.Up(ctx, db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	for _, name := range applied {
		logger.InfoContext(ctx, "migration applied", "store", "postgres", "migration", name)
	}
	return err
}

func eventStoreTopics() (outboxTopic string, topic func(string) string) {
	return outbox.Topic, router.EventTopic
}

func openEmbedded(ctx context.Context, cfg Config, logger watermill.LoggerAdapter) (*stack, error) {
	db, err := sqlite.Open(ctx, sqlitePath(cfg))
	if err != nil {
		return nil, fmt.Errorf("embedded store in %s: %w", cfg.DataDir, err)
	}
	st := &stack{ping: db.PingContext, close: db.Close}
	if err := st.openBroker(ctx, cfg, db, logger); err != nil {
		return st, err
	}
	outboxTopic, topic := eventStoreTopics()
	if st.events, err = sqlite.NewEventStore(db, sqlite.EventStoreConfig{OutboxTopic: outboxTopic, EventTopic: topic, Logger: logger}); err != nil {
		return st, err
	}
	st.orders = sqlite.NewOrderSummaryStore(db)
	st.snaps = sqlite.NewSnapshotStore(db)
	st.cps = sqlite.NewCheckpointStore(db)
	st.shadow = sqlite.NewShadowOrderSummary(db)
	st.poison, st.inbox, st.idempotency = sqlite.NewPoisonStore(db), sqlite.NewInbox(db), sqlite.NewIdempotencyStore(db)
	st.checkouts = sqlite.NewCheckoutStore(db)
	st.paymentSandbox = func(c paymentsandbox.Config) *paymentsandbox.Gateway { return paymentsandbox.NewSQLite(db, c) }
	st.notifications = sqlite.NewNotificationStore(db)
	st.cleanOutbox = func(ctx context.Context, retention time.Duration, limit int) (int64, error) {
		return sqlitepubsub.DeleteAcked(ctx, db, outboxTopic, outbox.ConsumerGroup, retention, limit)
	}
	reader, err := sqlbroker.SQLiteOutbox(db, outboxTopic, outbox.ConsumerGroup, logger)
	if err != nil {
		return st, err
	}
	st.outbox = reader
	st.close = joinClose(reader.Close, st.close)
	return st, nil
}

func openPostgres(ctx context.Context, cfg Config, logger *slog.Logger) (*stack, error) {
	wlog := watermill.NewSlogLogger(logger)
	pool, err := newPool(ctx, cfg.PostgresURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	st := &stack{ping: pool.Ping, close: func() error { pool.Close(); return nil }}
	if err := pool.Ping(ctx); err != nil {
		return st, fmt.Errorf("postgres: %w", err)
	}
	if cfg.AutoMigrate {
		if err := migratePostgres(ctx, pool, logger); err != nil {
			return st, err
		}
	}
	outboxTopic, topic := eventStoreTopics()
	esCfg := postgres.EventStoreConfig{OutboxTopic: outboxTopic, EventTopic: topic, Logger: wlog}
	if err := postgres.InitializeOutbox(ctx, pool, esCfg); err != nil {
		return st, err
	}
	if st.events, err = postgres.NewEventStore(pool, esCfg); err != nil {
		return st, err
	}
	st.orders = postgres.NewOrderSummaryStore(pool)
	st.checkouts = postgres.NewCheckoutStore(pool)
	st.paymentSandbox = func(c paymentsandbox.Config) *paymentsandbox.Gateway { return paymentsandbox.NewPostgres(pool, c) }
	st.notifications = postgres.NewNotificationStore(pool)
	st.snaps = postgres.NewSnapshotStore(pool)
	st.cps = postgres.NewCheckpointStore(pool)
	st.shadow = postgres.NewShadowOrderSummary(pool)
	st.poison, st.inbox, st.idempotency = postgres.NewPoisonStore(pool), postgres.NewInbox(pool), postgres.NewIdempotencyStore(pool)
	brokerPool, err := brokerPool(ctx, cfg, pool, st)
	if err != nil {
		return st, err
	}
	st.cleanOutbox = func(ctx context.Context, retention time.Duration, limit int) (int64, error) {
		return postgres.DeleteForwardedOutbox(ctx, pool, outboxTopic, outbox.ConsumerGroup, retention, limit)
	}
	if err := st.openBroker(ctx, cfg, brokerPool, wlog); err != nil {
		return st, err
	}
	st.outbox, err = postgres.NewOutboxReader(ctx, pool, outboxTopic, outbox.ConsumerGroup)
	return st, err
}

// minPoolConns is the smallest pool the service runs with: every SQL
// subscriber holds a connection (in a transaction) while its handler runs,
// and the handlers need connections of their own; pgx's default (the number
// of CPUs, at least 4) can starve them all. pool_max_conns in the URL wins.
const minPoolConns = 24

func newPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(url, "pool_max_conns") && pc.MaxConns < minPoolConns {
		pc.MaxConns = minPoolConns
	}
	return pgxpool.NewWithConfig(ctx, pc)
}

// openBroker opens cfg's broker and makes close release it before the
// store. storeDB is the store's database handle, for the brokers that live
// in it.
func (st *stack) openBroker(ctx context.Context, cfg Config, storeDB any, logger watermill.LoggerAdapter) error {
	b, err := openBroker(ctx, cfg.BrokerConfig, storeDB, cfg.PollInterval, logger)
	if err != nil {
		return fmt.Errorf("broker %s: %w", cfg.Broker, err)
	}
	st.broker = b
	closeStore := st.close
	st.close = func() error { return errors.Join(b.Shutdown(), closeStore()) }
	return nil
}
