// Package postgres implements the ports on PostgreSQL through pgx: the event
// store with its transactional outbox, and the read models. The schema comes
// from migrations/postgres; this package never creates its own tables except
// Watermill's outbox table (InitializeOutbox).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/appendmany"
	"github.com/orderflow/orderflow/internal/sqlstore"
	"github.com/orderflow/orderflow/ports"
)

var _ ports.EventStore = (*EventStore)(nil)

// Defaults of EventStoreConfig.
const (
	DefaultOutboxTopic = "events_outbox"
)

// DefaultEventTopic names the topic of a stream type's events: "<type>.events".
func DefaultEventTopic(streamType string) string { return streamType + ".events" }

// EventStoreConfig configures an EventStore.
type EventStoreConfig struct {
	// OutboxTopic is the Watermill topic, a table in the same database, that
	// Append writes enveloped events to (Watermill's forwarder envelope). The
	// forwarder reads it in batches with an OutboxReader (watermill-sql's
	// DefaultPostgreSQLSchema and DefaultPostgreSQLOffsetsAdapter) and moves
	// the events to EventTopic on the broker. Defaults to DefaultOutboxTopic.
	OutboxTopic string
	// EventTopic names the destination topic of a stream type's events.
	// Defaults to DefaultEventTopic.
	EventTopic func(streamType string) string
	// Logger receives Watermill's publisher logs. Defaults to slog.Default.
	Logger watermill.LoggerAdapter
}

func (c *EventStoreConfig) setDefaults() {
	if c.OutboxTopic == "" {
		c.OutboxTopic = DefaultOutboxTopic
	}
	if c.EventTopic == nil {
		c.EventTopic = DefaultEventTopic
	}
	if c.Logger == nil {
		c.Logger = watermill.NewSlogLogger(slog.Default())
	}
}

// Validate reports a configuration NewEventStore cannot work with.
func (c EventStoreConfig) Validate() error {
	if c.OutboxTopic == "" {
		return errors.New("postgres event store: empty OutboxTopic")
	}
	if c.EventTopic == nil {
		return errors.New("postgres event store: nil EventTopic")
	}
	return nil
}

// EventStore is the event store on PostgreSQL: the events table, with the
// outbox in the same database.
//
// Append commits the events and their outbox messages in one transaction, so
// an event is published if and only if it is stored. The outbox table must
// exist before the first Append: call InitializeOutbox with the same config at
// start-up.
//
// Every append takes its streams' locks before writing, so that within a
// stream, versions and positions grow together (see lockStreams); writers
// of one stream take turns.
//
// ReadAll positions are (transaction id, sequence): see ports.Position. An
// event becomes visible to ReadAll only when every transaction older than
// its own has ended, anywhere on the PostgreSQL server, so a long-running
// transaction elsewhere delays readers (it never makes them skip).
type EventStore struct {
	pool *pgxpool.Pool
	cfg  EventStoreConfig
}

// NewEventStore returns an EventStore on pool, which must be connected to a
// database migrated by migrations/postgres.
func NewEventStore(pool *pgxpool.Pool, cfg EventStoreConfig) (*EventStore, error) {
	if pool == nil {
		return nil, errors.New("postgres event store: nil pool")
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &EventStore{pool: pool, cfg: cfg}, nil
}

// anyVersionAttempts bounds the retries of an AnyVersion append that loses a
// race for its version to another writer. Writers through this package take
// the stream's lock first and never race; one that does not (an older
// release during a rolling upgrade) still can.
const anyVersionAttempts = 5

// appendEvents is Append without its span. A version conflict is a
// *ports.ConcurrencyError whose Actual is the stream version read after the
// failed attempt; bad input (no events, an event id that is not a UUID) is
// an apperr.Invalid error, and so is data the database refuses (a NUL in a
// stream id, any other data exception or constraint violation: see
// sqlstore.PostgresError). AnyVersion appends retry a lost race a few times.
func (s *EventStore) appendEvents(ctx context.Context, stream ports.Stream, expectedVersion int64, events []ports.NewEvent) (ports.AppendResult, error) {
	if err := appendmany.Validate(stream, expectedVersion, events); err != nil {
		return ports.AppendResult{}, err
	}
	for attempt := 1; ; attempt++ {
		next, err := s.tryAppend(ctx, stream, expectedVersion, events)
		if err == nil {
			return ports.AppendResult{NextExpectedVersion: next}, nil
		}
		if !isVersionClash(err) {
			return ports.AppendResult{}, sqlstore.PostgresError(err)
		}
		_, inUnit := sqlstore.PgxTx(ctx, s.pool)
		if expectedVersion == ports.AnyVersion && attempt < anyVersionAttempts && !inUnit {
			continue
		}
		actual, verr := s.streamVersion(ctx, s.pool, stream)
		if verr != nil {
			return ports.AppendResult{}, fmt.Errorf("append to %s: read version after conflict: %w", stream, errors.Join(err, verr))
		}
		return ports.AppendResult{}, &ports.ConcurrencyError{Stream: stream, Expected: expectedVersion, Actual: actual}
	}
}

// tryAppend runs one append transaction and returns the new stream version.
// A lost race surfaces as a unique violation on the stream version, which
// the caller turns into a ConcurrencyError.
func (s *EventStore) tryAppend(ctx context.Context, stream ports.Stream, expected int64, events []ports.NewEvent) (int64, error) {
	var next int64
	err := s.inTx(ctx, stream.String(), func(tx pgx.Tx) (err error) {
		versions, err := lockAndReadVersions(ctx, tx, []ports.Stream{stream})
		if err != nil {
			return fmt.Errorf("append to %s: %w", stream, err)
		}
		next, err = s.appendInTx(ctx, tx, stream, expected, versions[0], events)
		return err
	})
	return next, err
}

// inTx runs fn in a transaction and commits it if fn succeeds. Inside a
// unit of work (sqlstore.Transactor on the same pool), fn runs in its
// transaction, which the unit of work commits.
func (s *EventStore) inTx(ctx context.Context, what string, fn func(pgx.Tx) error) error {
	if tx, ok := sqlstore.PgxTx(ctx, s.pool); ok {
		return fn(tx)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("append to %s: begin: %w", what, err)
	}
	// After a successful Commit this is a no-op returning pgx.ErrTxClosed.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("append to %s: commit: %w", what, err)
	}
	return nil
}

// appendInTx checks the stream's version, current, inserts the events and
// writes their outbox messages, all on tx, which must hold the stream's lock
// and have read current after taking it (lockAndReadVersions).
func (s *EventStore) appendInTx(ctx context.Context, tx pgx.Tx, stream ports.Stream, expected, current int64, events []ports.NewEvent) (int64, error) {
	if expected != ports.AnyVersion && current != expected {
		return 0, &ports.ConcurrencyError{Stream: stream, Expected: expected, Actual: current}
	}
	recorded, err := insertEvents(ctx, tx, stream, current, events)
	if err != nil {
		return 0, err
	}
	if err := s.publishOutbox(ctx, tx, stream, recorded); err != nil {
		return 0, err
	}
	return current + int64(len(events)), nil
}

// querier is what pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reader is where reads run: the unit of work's transaction that ctx
// carries (sqlstore.Transactor), so that it sees its own appends, or the
// pool.
func (s *EventStore) reader(ctx context.Context) querier {
	if tx, ok := sqlstore.PgxTx(ctx, s.pool); ok {
		return tx
	}
	return s.pool
}

// versionSQL reads a stream's version (0 for an unknown stream): the last
// entry of the stream in events_stream_version_key, whatever its length.
//
// Trap: `SELECT max(version) ... WHERE stream_type = $1 AND stream_id = $2`
// reads the same, but pgx prepares it and Postgres's generic plan for it
// (estimated one row per stream) aggregates over every index entry of the
// stream instead of taking the last one: an append to a hot SKU's stream of
// 8,000 events spent 1.6 ms there, growing with the stream. ORDER BY ...
// LIMIT 1 is a backward scan of one entry in any plan.
const versionSQL = `SELECT coalesce((SELECT version FROM events WHERE stream_type = $1 AND stream_id = $2
	ORDER BY version DESC LIMIT 1), 0)`

func (s *EventStore) streamVersion(ctx context.Context, q querier, stream ports.Stream) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, versionSQL, stream.Type, stream.ID).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read version of %s: %w", stream, err)
	}
	return v, nil
}

// insertEvents inserts events at versions after+1... in one statement, in
// order, so positions within the batch follow versions.
func insertEvents(ctx context.Context, tx pgx.Tx, stream ports.Stream, after int64, events []ports.NewEvent) ([]ports.RecordedEvent, error) {
	n := len(events)
	ids, types, data := make([]string, n), make([]string, n), make([]string, n)
	corr, caus, occurred := make([]string, n), make([]string, n), make([]time.Time, n)
	for i, e := range events {
		ids[i], types[i], data[i] = e.Metadata.EventID, e.Type, string(e.Data)
		corr[i], caus[i], occurred[i] = e.Metadata.CorrelationID, e.Metadata.CausationID, e.Metadata.OccurredAt
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO events (stream_type, stream_id, version, event_id, event_type, data,
		                    correlation_id, causation_id, occurred_at)
		SELECT $1, $2, $3 + e.ord, e.event_id, e.event_type, e.data::json,
		       e.correlation_id, e.causation_id, e.occurred_at
		FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])
		     WITH ORDINALITY AS e(event_id, event_type, data, correlation_id, causation_id, occurred_at, ord)
		ORDER BY e.ord
		RETURNING version, position, transaction_id, recorded_at`,
		stream.Type, stream.ID, after, ids, types, data, corr, caus, occurred)
	if err != nil {
		return nil, insertError(stream.String(), err)
	}
	recorded := make([]ports.RecordedEvent, n)
	for rows.Next() {
		var r ports.RecordedEvent
		if err := rows.Scan(&r.Version, &r.Position.Prepare, &r.Position.Commit, &r.RecordedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("append to %s: scan: %w", stream, err)
		}
		i := r.Version - after - 1
		e := events[i]
		r.Stream, r.Type, r.Data, r.Metadata = stream, e.Type, e.Data, e.Metadata
		r.RecordedAt = r.RecordedAt.UTC()
		recorded[i] = r
	}
	if err := rows.Err(); err != nil {
		return nil, insertError(stream.String(), err)
	}
	return recorded, nil
}

// insertError classifies a failed insert. A version clash is passed on as
// is, for Append to turn into a ConcurrencyError.
func insertError(stream string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "events_event_id_key" {
		return apperr.Wrap(apperr.Conflict, err, "append to %s: an event with this id is already stored", stream)
	}
	if errors.As(err, &pgErr) && pgErr.Code == "22P02" {
		return apperr.Wrap(apperr.Invalid, err, "append to %s: event data is not valid JSON", stream)
	}
	return fmt.Errorf("append to %s: insert: %w", stream, err)
}

// isVersionClash reports a unique violation on (stream, version), another
// writer having committed the version first, or errVersionClash.
func isVersionClash(err error) bool {
	var pgErr *pgconn.PgError
	return errors.Is(err, errVersionClash) ||
		errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "events_stream_version_key"
}
