package service

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
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/internal/pghorizon"
	"github.com/orderflow/orderflow/internal/sqlstore"
	pgmigrations "github.com/orderflow/orderflow/migrations/postgres"
	"github.com/orderflow/orderflow/outbox"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
)

// Adapters are the outbound adapters one process runs on: the stores, in
// one database, and the broker. Open builds them; Close releases them, the
// broker before the store.
type Adapters struct {
	Events      ports.EventStore
	Orders      ports.OrderSummaryStore
	Snapshots   ports.SnapshotStore
	Checkpoints ports.CheckpointStore
	Shadow      ports.ShadowOrderSummary
	// Tx runs units of work over Events and the row stores: the checkout
	// saga's steps, a projection's apply with its checkpoint.
	Tx ports.Transactor
	// checkouts is the checkout saga's state, in the same database.
	Checkouts ports.CheckoutStore
	// notifications keeps the notifications sent about orders.
	Notifications ports.NotificationStore
	// paymentSandbox builds the sandbox payment provider on the same
	// database, where its authorizations outlive the process and are shared
	// by every process of the service.
	paymentSandbox func(paymentsandbox.Config) *paymentsandbox.Gateway
	outbox         outbox.Source // the forwarder's reader of outbox.Topic
	Broker         broker.Broker
	// Reliability stores, in the event store's database.
	Poison      ports.PoisonStore
	Retries     ports.RetryStore
	Inbox       ports.DedupStore
	Idempotency ports.IdempotencyStore
	// cleanOutbox deletes outbox rows the forwarder has acked (see
	// outbox.CleanerConfig.Delete).
	cleanOutbox func(ctx context.Context, retention time.Duration, limit int) (int64, error)
	// outboxBacklog is the age of the oldest outbox row the forwarder has
	// not acked (prommetrics.OutboxBacklog).
	outboxBacklog func(ctx context.Context) (time.Duration, error)
	ping          func(ctx context.Context) error
	close         func() error
}

// SQLitePath is the embedded database file inside the data directory.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "orderflow.db") }

// Open opens the store and the broker cfg names (with cfg's defaults
// applied), migrating a Postgres store when cfg.AutoMigrate is set. On error
// it releases what it opened.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Adapters, error) {
	cfg.setDefaults()
	var (
		st  *Adapters
		err error
	)
	if cfg.Embedded() {
		st, err = openEmbedded(ctx, cfg, watermill.NewSlogLogger(logger))
	} else {
		st, err = openPostgres(ctx, cfg, logger)
	}
	if err != nil && st != nil {
		_ = st.close()
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Close releases the broker, then the store.
func (st *Adapters) Close() error { return st.close() }

// Migrate brings the store's schema up to date, logging what it applied.
func Migrate(ctx context.Context, cfg Config, logger *slog.Logger) error {
	cfg.setDefaults()
	if cfg.Embedded() {
		db, err := sqlite.Open(ctx, cfg.SQLitePath()) // Open migrates
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

func openEmbedded(ctx context.Context, cfg Config, logger watermill.LoggerAdapter) (*Adapters, error) {
	db, err := sqlite.Open(ctx, cfg.SQLitePath())
	if err != nil {
		return nil, fmt.Errorf("embedded store in %s: %w", cfg.DataDir, err)
	}
	st := &Adapters{ping: db.PingContext, close: db.Close}
	if err := st.openBroker(ctx, cfg, db, logger); err != nil {
		return st, err
	}
	outboxTopic, topic := eventStoreTopics()
	if st.Events, err = sqlite.NewEventStore(db, sqlite.EventStoreConfig{OutboxTopic: outboxTopic, EventTopic: topic, Logger: logger}); err != nil {
		return st, err
	}
	st.setRows(sqlite.Stores(db))
	st.paymentSandbox = func(c paymentsandbox.Config) *paymentsandbox.Gateway { return paymentsandbox.NewSQLite(db, c) }
	st.cleanOutbox = func(ctx context.Context, retention time.Duration, limit int) (int64, error) {
		return sqlitepubsub.DeleteAcked(ctx, db, outboxTopic, outbox.ConsumerGroup, retention, limit)
	}
	st.outboxBacklog = func(ctx context.Context) (time.Duration, error) {
		return sqlitepubsub.OldestUnacked(ctx, db, outboxTopic, outbox.ConsumerGroup)
	}
	reader, err := sqlbroker.SQLiteOutbox(db, outboxTopic, outbox.ConsumerGroup, logger)
	if err != nil {
		return st, err
	}
	st.outbox = reader
	st.close = joinClose(reader.Close, st.close)
	return st, nil
}

// setRows takes the plain-row stores, the same on either database.
func (st *Adapters) setRows(rows sqlstore.Stores) {
	st.Orders, st.Snapshots, st.Checkpoints, st.Shadow = rows.OrderSummary, rows.Snapshots, rows.Checkpoints, rows.Shadow
	st.Poison, st.Inbox, st.Idempotency = rows.Poison, rows.Inbox, rows.Idempotency
	st.Retries = rows.Retries
	st.Checkouts, st.Notifications = rows.Checkouts, rows.Notifications
	st.Tx = rows.Tx
}

func openPostgres(ctx context.Context, cfg Config, logger *slog.Logger) (*Adapters, error) {
	wlog := watermill.NewSlogLogger(logger)
	pool, err := newPool(ctx, cfg.PostgresURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	st := &Adapters{ping: pool.Ping, close: func() error { pool.Close(); return nil }}
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
	if st.Events, err = postgres.NewEventStore(pool, esCfg); err != nil {
		return st, err
	}
	st.setRows(postgres.Stores(pool))
	st.paymentSandbox = func(c paymentsandbox.Config) *paymentsandbox.Gateway { return paymentsandbox.NewPostgres(pool, c) }
	brokerPool, err := brokerPool(ctx, cfg, pool, st)
	if err != nil {
		return st, err
	}
	st.cleanOutbox = func(ctx context.Context, retention time.Duration, limit int) (int64, error) {
		return postgres.DeleteForwardedOutbox(ctx, pool, outboxTopic, outbox.ConsumerGroup, retention, limit)
	}
	st.outboxBacklog = func(ctx context.Context) (time.Duration, error) {
		return postgres.OldestUnforwardedOutbox(ctx, pool, outboxTopic, outbox.ConsumerGroup)
	}
	if err := st.openBroker(ctx, cfg, brokerPool, wlog); err != nil {
		return st, err
	}
	// The forwarder reads on a connection of its own kind: its batch, open
	// while the broker acknowledges a publish, holds back no reader.
	readers, err := pghorizon.ReaderPool(ctx, pool, outboxReaderConns)
	if err != nil {
		return st, err
	}
	st.close = joinClose(func() error { readers.Close(); return nil }, st.close)
	st.outbox, err = postgres.NewOutboxReader(ctx, readers, outboxTopic, outbox.ConsumerGroup)
	return st, err
}

// outboxReaderConns bounds the forwarder's reader connections: one reads a
// batch at a time.
const outboxReaderConns = 2

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

// brokerPool is the pool of the Postgres broker: the store's own, or a
// second one on --broker-postgres-url, closed with the stack. The broker's
// tables are created lazily, so it may be down when the service starts.
func brokerPool(ctx context.Context, cfg Config, store *pgxpool.Pool, st *Adapters) (*pgxpool.Pool, error) {
	if cfg.Reliability.BrokerPostgresURL == "" {
		return store, nil
	}
	pool, err := pgxpool.New(ctx, cfg.Reliability.BrokerPostgresURL)
	if err != nil {
		return nil, fmt.Errorf("--broker-postgres-url: %w", err)
	}
	st.close = joinClose(func() error { pool.Close(); return nil }, st.close)
	return pool, nil
}

// openBroker opens cfg's broker and makes close release it before the
// store. storeDB is the store's database handle, for the brokers that live
// in it.
func (st *Adapters) openBroker(ctx context.Context, cfg Config, storeDB any, logger watermill.LoggerAdapter) error {
	b, err := openBroker(ctx, cfg.BrokerConfig, storeDB, cfg.PollInterval, logger)
	if err != nil {
		return fmt.Errorf("broker %s: %w", cfg.Broker, err)
	}
	st.Broker = b
	closeStore := st.close
	st.close = func() error { return errors.Join(b.Shutdown(), closeStore()) }
	return nil
}

// OrderSummaryProjection is the order_summary projection as the router runs
// it, checkpointing included (coalesced: one write per
// projection.DefaultCheckpointInterval at most).
func (st *Adapters) OrderSummaryProjection() *projection.OrderSummary {
	return projection.NewOrderSummary(st.Orders, st.Events).WithCheckpoints(st.Checkpoints).
		WithCheckpointInterval(projection.DefaultCheckpointInterval)
}

// joinClose runs both closers, first a then b, and joins their errors.
func joinClose(a, b func() error) func() error {
	return func() error {
		errA := a()
		return errors.Join(errA, b())
	}
}
