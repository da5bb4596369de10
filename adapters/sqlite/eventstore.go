package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/appendmany"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/sqlstore"
	"github.com/orderflow/orderflow/ports"
)

// EventStoreConfig configures an EventStore.
type EventStoreConfig struct {
	// OutboxTopic is the sqlitepubsub topic the outbox writes to: each event
	// is wrapped in a forwarder envelope (Watermill's format) naming its
	// destination topic, for the outbox forwarder to publish to the real
	// broker. Required.
	OutboxTopic string
	// EventTopic names the destination topic of a stream type's events.
	// Required.
	EventTopic func(streamType string) string
	// Logger defaults to a no-op logger.
	Logger watermill.LoggerAdapter
}

func (c *EventStoreConfig) setDefaults() {
	if c.Logger == nil {
		c.Logger = watermill.NopLogger{}
	}
}

// Validate reports a configuration that cannot work.
func (c EventStoreConfig) Validate() error {
	var errs []error
	if c.OutboxTopic == "" {
		errs = append(errs, errors.New("OutboxTopic is required"))
	}
	if c.EventTopic == nil {
		errs = append(errs, errors.New("EventTopic is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: invalid event store config: %w", err)
	}
	return nil
}

// EventStore is the ports.EventStore of the embedded mode: an append-only
// events table (the database refuses UPDATE and DELETE) and the outbox in the
// same SQLite file.
//
// Append runs in one transaction that takes the write lock at BEGIN (the
// _txlock=immediate of Open): it checks the stream version, inserts the
// events and publishes them to the outbox topic, so events and outbox
// messages commit together or not at all. Because writers are serialised by
// that lock, positions (the table's autoincrement) are handed out in commit
// order: Commit and Prepare of a Position are both the position, and a
// ReadAll reader resuming after the last position it saw never misses an
// event that commits later.
type EventStore struct {
	db  *sql.DB
	cfg EventStoreConfig
}

var _ ports.EventStore = (*EventStore)(nil)

// NewEventStore returns an EventStore on db, a database from Open.
func NewEventStore(db *sql.DB, cfg EventStoreConfig) (*EventStore, error) {
	if db == nil {
		return nil, errors.New("sqlite: nil database")
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &EventStore{db: db, cfg: cfg}, nil
}

// appendEvents is Append without its span. A version mismatch is a
// *ports.ConcurrencyError whose Actual is the stream's version; bad input (no
// events, an event id that is not a UUID, data that is not JSON) is
// apperr.Invalid; an event id already stored is apperr.Conflict. AnyVersion
// appends never conflict: writers are serialised.
func (s *EventStore) appendEvents(ctx context.Context, stream ports.Stream, expectedVersion int64, events []ports.NewEvent) (ports.AppendResult, error) {
	if err := appendmany.Validate(stream, expectedVersion, events); err != nil {
		return ports.AppendResult{}, err
	}
	var next int64
	err := s.inTx(ctx, stream.String(), func(tx *sql.Tx) (err error) {
		next, err = s.appendInTx(ctx, tx, stream, expectedVersion, events)
		return err
	})
	if err != nil {
		return ports.AppendResult{}, err
	}
	return ports.AppendResult{NextExpectedVersion: next}, nil
}

// appendInTx checks the stream's version, inserts the events and publishes
// them to the outbox, all on tx; it returns the new stream version.
func (s *EventStore) appendInTx(ctx context.Context, tx *sql.Tx, stream ports.Stream, expectedVersion int64, events []ports.NewEvent) (int64, error) {
	current, err := streamVersion(ctx, tx, stream)
	if err != nil {
		return 0, err
	}
	if expectedVersion != ports.AnyVersion && current != expectedVersion {
		return 0, &ports.ConcurrencyError{Stream: stream, Expected: expectedVersion, Actual: current}
	}
	recordedAt := storedTime(time.Now())
	messages := make([]*message.Message, 0, len(events))
	for i, e := range events {
		recorded := ports.RecordedEvent{
			Stream:     stream,
			Version:    current + 1 + int64(i),
			Type:       e.Type,
			Data:       e.Data,
			Metadata:   e.Metadata,
			RecordedAt: recordedAt,
		}
		recorded.Metadata.OccurredAt = storedTime(e.Metadata.OccurredAt)
		if recorded.Position, err = insertEvent(ctx, tx, recorded); err != nil {
			return 0, s.insertError(ctx, tx, stream, expectedVersion, err)
		}
		messages = append(messages, eventwire.ToMessage(recorded))
	}
	if err := s.publish(tx, stream, messages); err != nil {
		return 0, err
	}
	return current + int64(len(events)), nil
}

// appendMany is AppendMany without its span: every stream in one IMMEDIATE
// transaction, so writers are serialised and the parts commit together or
// not at all.
func (s *EventStore) appendMany(ctx context.Context, appends []ports.StreamAppend) (err error) {
	sorted, err := appendmany.Prepare(appends)
	if err != nil {
		return err
	}
	return s.inTx(ctx, fmt.Sprintf("%d streams", len(sorted)), func(tx *sql.Tx) error {
		for _, a := range sorted {
			if _, err := s.appendInTx(ctx, tx, a.Stream, a.ExpectedVersion, a.Events); err != nil {
				return err
			}
		}
		return nil
	})
}

// inTx runs fn in an IMMEDIATE transaction and commits it if fn succeeds.
// Inside a unit of work (sqlstore.Transactor on the same database), fn runs
// in its transaction, which the unit of work commits.
func (s *EventStore) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) (err error) {
	if tx, ok := sqlstore.SQLTx(ctx, s.db); ok {
		return fn(tx)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite event store: append to %s: %w", what, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite event store: commit append to %s: %w", what, err)
	}
	return nil
}

// insertError classifies a failed insert: a clash on (stream, version) is a
// *ports.ConcurrencyError (unreachable while every writer begins IMMEDIATE,
// kept so that a writer that does not still gets the port's error), a
// duplicate event id is apperr.Conflict, any other data the database
// refuses apperr.Invalid (sqlstore.SQLiteError).
func (s *EventStore) insertError(ctx context.Context, tx *sql.Tx, stream ports.Stream, expected int64, err error) error {
	switch {
	case isUniqueViolation(err, "events.stream_type, events.stream_id, events.version"):
		actual, verr := streamVersion(ctx, tx, stream)
		if verr != nil {
			return fmt.Errorf("sqlite event store: append to %s: read version after conflict: %w", stream, errors.Join(err, verr))
		}
		return &ports.ConcurrencyError{Stream: stream, Expected: expected, Actual: actual}
	case isUniqueViolation(err, "events.event_id"):
		return apperr.Wrap(apperr.Conflict, err, "append to %s: an event with this id is already stored", stream)
	}
	return sqlstore.SQLiteError(fmt.Errorf("sqlite event store: append to %s: %w", stream, err))
}

func streamVersion(ctx context.Context, tx *sql.Tx, stream ports.Stream) (int64, error) {
	var v int64
	err := tx.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_type = ? AND stream_id = ?`,
		stream.Type, stream.ID).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("sqlite event store: version of %s: %w", stream, err)
	}
	return v, nil
}

func insertEvent(ctx context.Context, tx *sql.Tx, e ports.RecordedEvent) (ports.Position, error) {
	var pos int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO events (stream_type, stream_id, version, event_id, event_type, data,
		                    correlation_id, causation_id, occurred_at, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING position`,
		e.Stream.Type, e.Stream.ID, e.Version, e.Metadata.EventID, e.Type, string(e.Data),
		e.Metadata.CorrelationID, e.Metadata.CausationID,
		encodeTime(e.Metadata.OccurredAt), encodeTime(e.RecordedAt)).Scan(&pos)
	return ports.Position{Commit: uint64(pos), Prepare: uint64(pos)}, err
}

// publish writes the outbox messages on tx: they are delivered only if tx
// commits.
func (s *EventStore) publish(tx *sql.Tx, stream ports.Stream, messages []*message.Message) error {
	pub, err := sqlitepubsub.NewPublisher(tx, sqlitepubsub.PublisherConfig{}, s.cfg.Logger)
	if err != nil {
		return fmt.Errorf("sqlite event store: outbox: %w", err)
	}
	outbox := forwarder.NewPublisher(pub, forwarder.PublisherConfig{ForwarderTopic: s.cfg.OutboxTopic})
	if err := outbox.Publish(s.cfg.EventTopic(stream.Type), messages...); err != nil {
		return fmt.Errorf("sqlite event store: outbox for %s: %w", stream, err)
	}
	return nil
}
