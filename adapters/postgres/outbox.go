package postgres

import (
	"context"
	"fmt"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/pghorizon"
	"github.com/orderflow/orderflow/ports"
)

// OutboxSchema is the watermill-sql schema of the outbox topic. The
// forwarder's subscriber must use the same one (with
// wsql.DefaultPostgreSQLOffsetsAdapter{}) to read what Append writes. It is
// watermill-sql's default schema, read below this database's horizon
// (internal/pghorizon) rather than the whole server's.
var OutboxSchema = pghorizon.Schema{}

// InitializeOutbox creates the tables of cfg's outbox topic (messages and
// consumer offsets) with watermill-sql's own schema initialisation, if they
// do not exist. Call it once at start-up, before the first Append: the
// publisher inside the append transaction cannot create its table. It is
// safe to call concurrently and repeatedly.
func InitializeOutbox(ctx context.Context, pool *pgxpool.Pool, cfg EventStoreConfig) error {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	params := wsql.SchemaInitializingQueriesParams{Topic: cfg.OutboxTopic}
	queries, err := OutboxSchema.SchemaInitializingQueries(params)
	if err != nil {
		return fmt.Errorf("outbox schema: %w", err)
	}
	offsets, err := wsql.DefaultPostgreSQLOffsetsAdapter{}.SchemaInitializingQueries(
		wsql.OffsetsSchemaInitializingQueriesParams{Topic: cfg.OutboxTopic})
	if err != nil {
		return fmt.Errorf("outbox offsets schema: %w", err)
	}
	queries = append(queries, offsets...)

	// The schema's first query takes a transaction-scoped advisory lock, so
	// concurrent initialisations (another instance, the forwarder's
	// subscriber) do not race on CREATE TABLE IF NOT EXISTS.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, q := range queries {
			if _, err := tx.Exec(ctx, q.Query, q.Args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("initialize outbox topic %s: %w", cfg.OutboxTopic, err)
	}
	return nil
}

// publishOutbox writes the recorded events of one stream to the outbox
// inside tx, each enveloped for the forwarder with its destination topic.
func (s *EventStore) publishOutbox(ctx context.Context, tx pgx.Tx, stream ports.Stream, recorded []ports.RecordedEvent) error {
	if err := s.publishOutboxMany(ctx, tx, recorded); err != nil {
		return fmt.Errorf("append to %s: %w", stream, err)
	}
	return nil
}

// publishOutboxMany writes recorded events of any streams to the outbox
// inside tx, in one INSERT whatever their destination topics, in their
// order in recorded (so each topic's events keep their order). Each is
// wrapped in the forwarder's envelope, which names its destination topic.
func (s *EventStore) publishOutboxMany(ctx context.Context, tx pgx.Tx, recorded []ports.RecordedEvent) error {
	pub, err := wsql.NewPublisher(wsql.TxFromPgx(tx), wsql.PublisherConfig{SchemaAdapter: OutboxSchema}, s.cfg.Logger)
	if err != nil {
		return fmt.Errorf("outbox publisher: %w", err)
	}
	// The forwarder's publisher wraps the messages of one destination
	// topic a call; enveloped keeps them for the one INSERT.
	enveloped := &envelopes{}
	fwd := forwarder.NewPublisher(enveloped, forwarder.PublisherConfig{ForwarderTopic: s.cfg.OutboxTopic})
	for _, e := range recorded {
		msg := eventwire.ToMessage(e)
		msg.SetContext(ctx) // the SQL publisher runs its INSERT with it
		if err := fwd.Publish(s.cfg.EventTopic(e.Stream.Type), msg); err != nil {
			return fmt.Errorf("wrap %s for the outbox: %w", e.Stream, err)
		}
	}
	if err := pub.Publish(s.cfg.OutboxTopic, enveloped.msgs...); err != nil {
		return fmt.Errorf("publish %d events to the outbox: %w", len(enveloped.msgs), err)
	}
	if err := pub.Close(); err != nil {
		return fmt.Errorf("close outbox publisher: %w", err)
	}
	return nil
}

// envelopes is a message.Publisher that keeps the messages it is given
// (the forwarder's envelopes, all to its topic) instead of sending them.
type envelopes struct{ msgs []*message.Message }

func (e *envelopes) Publish(_ string, msgs ...*message.Message) error {
	e.msgs = append(e.msgs, msgs...)
	return nil
}

func (e *envelopes) Close() error { return nil }
