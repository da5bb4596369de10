package router

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
)

// PostgresSubscriber subscribes to topics stored in Postgres by watermill-sql
// (every topic when Postgres is the broker; the forwarder reads the outbox
// with postgres.OutboxReader instead). Offsets are kept per consumer group;
// delivery is in order and at least once.
func PostgresSubscriber(pool *pgxpool.Pool, group string, poll time.Duration, logger watermill.LoggerAdapter) (message.Subscriber, error) {
	return wsql.NewSubscriber(wsql.BeginnerFromPgx(pool), wsql.SubscriberConfig{
		ConsumerGroup:    group,
		SchemaAdapter:    wsql.DefaultPostgreSQLSchema{},
		OffsetsAdapter:   wsql.DefaultPostgreSQLOffsetsAdapter{},
		InitializeSchema: true,
		PollInterval:     poll,
		ResendInterval:   time.Second,
		RetryInterval:    time.Second,
	}, logger)
}

// NewPostgresBroker uses Postgres itself as the broker, through watermill-sql.
func NewPostgresBroker(pool *pgxpool.Pool, poll time.Duration, logger watermill.LoggerAdapter) (Broker, error) {
	pub, err := wsql.NewPublisher(wsql.BeginnerFromPgx(pool), wsql.PublisherConfig{
		SchemaAdapter:        wsql.DefaultPostgreSQLSchema{},
		AutoInitializeSchema: true,
	}, logger)
	if err != nil {
		return Broker{}, fmt.Errorf("postgres broker: %w", err)
	}
	return Broker{
		Name:      "postgres",
		Publisher: pub,
		Subscriber: func(group string) (message.Subscriber, error) {
			return PostgresSubscriber(pool, group, poll, logger)
		},
		Ping:   pool.Ping,
		Replay: PostgresReplaySource{Pool: pool},
	}, nil
}

// sqliteLeaseTimeout bounds how long a consumer group stalls after the
// process that held its lease was killed: a restarted process takes over
// after at most this long. Holders renew it every third of it while they
// work, so it does not limit handler duration.
const sqliteLeaseTimeout = 5 * time.Second

// SQLiteSubscriber subscribes to topics stored in the embedded SQLite file.
func SQLiteSubscriber(db *stdsql.DB, group string, poll time.Duration, logger watermill.LoggerAdapter) (message.Subscriber, error) {
	return sqlitepubsub.NewSubscriber(db, sqlitepubsub.SubscriberConfig{
		ConsumerGroup: group,
		PollInterval:  poll,
		LeaseTimeout:  sqliteLeaseTimeout,
	}, logger)
}

// SQLiteOutbox returns the forwarder's batch reader of the outbox in the
// embedded SQLite file (group ConsumerGroupForwarder), with the lease
// timeout of every SQLite subscriber. Close it after the forwarder stopped,
// to release the group's lease at once.
func SQLiteOutbox(db *stdsql.DB, logger watermill.LoggerAdapter) (*sqlitepubsub.BatchReader, error) {
	sub, err := sqlitepubsub.NewSubscriber(db, sqlitepubsub.SubscriberConfig{
		ConsumerGroup: ConsumerGroupForwarder,
		LeaseTimeout:  sqliteLeaseTimeout,
	}, logger)
	if err != nil {
		return nil, fmt.Errorf("sqlite outbox: %w", err)
	}
	return sub.BatchReader(OutboxTopic)
}

// NewSQLiteBroker uses the embedded SQLite file as the broker: the default
// with no servers at all.
func NewSQLiteBroker(ctx context.Context, db *stdsql.DB, poll time.Duration, logger watermill.LoggerAdapter) (Broker, error) {
	if err := sqlitepubsub.InitializeSchema(ctx, db); err != nil {
		return Broker{}, fmt.Errorf("sqlite broker: %w", err)
	}
	pub, err := sqlitepubsub.NewPublisher(db, sqlitepubsub.PublisherConfig{}, logger)
	if err != nil {
		return Broker{}, fmt.Errorf("sqlite broker: %w", err)
	}
	return Broker{
		Name:      "sqlite",
		Publisher: pub,
		Subscriber: func(group string) (message.Subscriber, error) {
			return SQLiteSubscriber(db, group, poll, logger)
		},
		Ping:   db.PingContext,
		Replay: SQLiteReplaySource{DB: db},
	}, nil
}
