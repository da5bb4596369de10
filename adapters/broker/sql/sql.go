// Package sql is the brokers that keep their messages in the event store's
// own database: Postgres through watermill-sql, and the embedded SQLite
// file through sqlitepubsub. Both register themselves (broker.Postgres,
// broker.SQLite) and take the store's handle from broker.Config.StoreDB.
// It also builds the outbox forwarder's batch reader of the SQLite outbox.
package sql

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
	"github.com/orderflow/orderflow/internal/pghorizon"
)

// PostgresSubscriber subscribes to topics stored in Postgres by watermill-sql
// (every topic when Postgres is the broker; the forwarder reads the outbox
// with postgres.OutboxReader instead). Offsets are kept per consumer group;
// delivery is in order and at least once. Give it a pghorizon.ReaderPool.
func PostgresSubscriber(pool *pgxpool.Pool, group string, poll time.Duration, logger watermill.LoggerAdapter) (message.Subscriber, error) {
	return wsql.NewSubscriber(wsql.BeginnerFromPgx(pool), wsql.SubscriberConfig{
		ConsumerGroup:    group,
		SchemaAdapter:    pghorizon.Schema{},
		OffsetsAdapter:   wsql.DefaultPostgreSQLOffsetsAdapter{},
		InitializeSchema: true,
		PollInterval:     poll,
		ResendInterval:   time.Second,
		RetryInterval:    time.Second,
	}, logger)
}

// readerConns bounds the Postgres broker's subscriber connections: each
// subscriber holds one while its batch is handled.
const readerConns = 64

// NewPostgres uses Postgres itself as the broker, through watermill-sql.
// Its subscribers read on a pool of their own (pghorizon.ReaderPool), so a
// batch in flight holds back no other consumer group; Close closes it.
func NewPostgres(pool *pgxpool.Pool, poll time.Duration, logger watermill.LoggerAdapter) (broker.Broker, error) {
	pub, err := wsql.NewPublisher(wsql.BeginnerFromPgx(pool), wsql.PublisherConfig{
		SchemaAdapter:        pghorizon.Schema{},
		AutoInitializeSchema: true,
	}, logger)
	if err != nil {
		return broker.Broker{}, fmt.Errorf("postgres broker: %w", err)
	}
	readers, err := pghorizon.ReaderPool(context.Background(), pool, readerConns)
	if err != nil {
		return broker.Broker{}, fmt.Errorf("postgres broker: %w", err)
	}
	batch := &pgBatchPublisher{pool: pool, pub: pub, logger: logger}
	return broker.Broker{
		Name:         broker.Postgres,
		Publisher:    pub,
		PublishBatch: batch.publish,
		Subscriber: func(group string) (message.Subscriber, error) {
			return PostgresSubscriber(readers, group, poll, logger)
		},
		Ping:   pool.Ping,
		Replay: PostgresReplaySource{Pool: pool},
		Close:  func() error { readers.Close(); return nil },
		Trim: func(ctx context.Context, retention time.Duration, limit int, except ...string) (int64, error) {
			return TrimPostgres(ctx, pool, retention, limit, except...)
		},
	}, nil
}

// pgBatchPublisher is the Postgres broker's PublishBatch: the outbox
// forwarder's batch interleaves topics (an order's placed, reserved,
// authorized and confirmed events go to three), and publishing it in runs
// of one topic cost a statement and a commit per run. It publishes the
// batch in one transaction instead, one multi-row INSERT per topic, each
// topic's messages in batch order (rows of one transaction are read in
// insert order, see internal/pghorizon). It does so only where that saves
// statements (more runs than topics + begin and commit), and only to topics
// whose tables the pool publisher has created (AutoInitializeSchema cannot
// run inside a transaction): a batch with a topic it has not seen yet goes
// out in runs through pub, which creates the table.
type pgBatchPublisher struct {
	pool   *pgxpool.Pool
	pub    *wsql.Publisher
	logger watermill.LoggerAdapter
	known  sync.Map // topic → struct{}: its table exists
}

func (p *pgBatchPublisher) publish(msgs []broker.TopicMessage) error {
	var topics []string
	byTopic := map[string][]*message.Message{}
	runs, allKnown := 0, true
	for i, m := range msgs {
		if i == 0 || m.Topic != msgs[i-1].Topic {
			runs++
		}
		if _, ok := byTopic[m.Topic]; !ok {
			topics = append(topics, m.Topic)
			if _, ok := p.known.Load(m.Topic); !ok {
				allKnown = false
			}
		}
		byTopic[m.Topic] = append(byTopic[m.Topic], m.Msg)
	}
	if !allKnown || runs <= len(topics)+2 {
		if err := (broker.Broker{Publisher: p.pub}).PublishInOrder(msgs); err != nil {
			return err
		}
		for _, t := range topics {
			p.known.Store(t, struct{}{})
		}
		return nil
	}
	ctx := msgs[0].Msg.Context()
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres broker: begin batch: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit: a no-op
	txPub, err := wsql.NewPublisher(wsql.TxFromPgx(tx), wsql.PublisherConfig{SchemaAdapter: pghorizon.Schema{}}, p.logger)
	if err != nil {
		return fmt.Errorf("postgres broker: %w", err)
	}
	for _, t := range topics {
		if err := txPub.Publish(t, byTopic[t]...); err != nil {
			return fmt.Errorf("postgres broker: publish %d messages to %s: %w", len(byTopic[t]), t, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres broker: commit batch: %w", err)
	}
	return nil
}

// sqliteLeaseTimeout bounds how long a consumer group stalls after the
// process that held its lease was killed: a restarted process takes over
// after at most this long. Holders renew it every third of it while they
// work, so it does not limit handler duration.
const sqliteLeaseTimeout = 1500 * time.Millisecond

// SQLiteSubscriber subscribes to topics stored in the embedded SQLite file.
func SQLiteSubscriber(db *stdsql.DB, group string, poll time.Duration, logger watermill.LoggerAdapter) (message.Subscriber, error) {
	return sqlitepubsub.NewSubscriber(db, sqlitepubsub.SubscriberConfig{
		ConsumerGroup: group,
		PollInterval:  poll,
		LeaseTimeout:  sqliteLeaseTimeout,
	}, logger)
}

// SQLiteOutbox returns the forwarder's batch reader of topic, the outbox in
// the embedded SQLite file, for consumer group group (outbox.Topic and
// outbox.ConsumerGroup), with the lease timeout of every SQLite subscriber.
// Close it after the forwarder stopped, to release the group's lease at once.
func SQLiteOutbox(db *stdsql.DB, topic, group string, logger watermill.LoggerAdapter) (*sqlitepubsub.BatchReader, error) {
	sub, err := sqlitepubsub.NewSubscriber(db, sqlitepubsub.SubscriberConfig{
		ConsumerGroup: group,
		LeaseTimeout:  sqliteLeaseTimeout,
	}, logger)
	if err != nil {
		return nil, fmt.Errorf("sqlite outbox: %w", err)
	}
	return sub.BatchReader(topic)
}

// NewSQLite uses the embedded SQLite file as the broker: the default
// with no servers at all.
func NewSQLite(ctx context.Context, db *stdsql.DB, poll time.Duration, logger watermill.LoggerAdapter) (broker.Broker, error) {
	if err := sqlitepubsub.InitializeSchema(ctx, db); err != nil {
		return broker.Broker{}, fmt.Errorf("sqlite broker: %w", err)
	}
	pub, err := sqlitepubsub.NewPublisher(db, sqlitepubsub.PublisherConfig{}, logger)
	if err != nil {
		return broker.Broker{}, fmt.Errorf("sqlite broker: %w", err)
	}
	return broker.Broker{
		Name:      broker.SQLite,
		Publisher: pub,
		// The forwarder's batch, all its topics, in one INSERT.
		PublishBatch: func(msgs []broker.TopicMessage) error {
			all := make([]sqlitepubsub.Addressed, len(msgs))
			for i, m := range msgs {
				all[i] = sqlitepubsub.Addressed{Topic: m.Topic, Msg: m.Msg}
			}
			return pub.PublishAll(all)
		},
		Subscriber: func(group string) (message.Subscriber, error) {
			return SQLiteSubscriber(db, group, poll, logger)
		},
		Ping:   db.PingContext,
		Replay: SQLiteReplaySource{DB: db},
		Trim: func(ctx context.Context, retention time.Duration, limit int, except ...string) (int64, error) {
			return sqlitepubsub.TrimAcked(ctx, db, retention, limit, except...)
		},
	}, nil
}

func init() {
	broker.Register(broker.Postgres, func(_ context.Context, cfg broker.Config) (broker.Broker, error) {
		pool, ok := cfg.StoreDB.(*pgxpool.Pool)
		if !ok {
			return broker.Broker{}, fmt.Errorf("postgres broker needs the Postgres store's *pgxpool.Pool, got %T: %w", cfg.StoreDB, broker.ErrStoreDB)
		}
		return NewPostgres(pool, cfg.PollInterval, cfg.Logger)
	})
	broker.Register(broker.SQLite, func(ctx context.Context, cfg broker.Config) (broker.Broker, error) {
		db, ok := cfg.StoreDB.(*stdsql.DB)
		if !ok {
			return broker.Broker{}, fmt.Errorf("sqlite broker needs the embedded store's *sql.DB, got %T: %w", cfg.StoreDB, broker.ErrStoreDB)
		}
		return NewSQLite(ctx, db, cfg.PollInterval, cfg.Logger)
	})
}
