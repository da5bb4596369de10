package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/pghorizon"
	"github.com/orderflow/orderflow/internal/sqlstore"
	"github.com/orderflow/orderflow/ports"
)

const eventColumns = `stream_type, stream_id, version, position, transaction_id, event_id::text,
	event_type, data, correlation_id, causation_id, occurred_at, recorded_at`

// load is Load without its span.
func (s *EventStore) load(ctx context.Context, stream ports.Stream, fromVersion int64) ([]ports.RecordedEvent, error) {
	rows, err := s.reader(ctx).Query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE stream_type = $1 AND stream_id = $2 AND version >= $3
		ORDER BY version`,
		stream.Type, stream.ID, fromVersion)
	if err != nil {
		return nil, sqlstore.PostgresError(fmt.Errorf("load %s: %w", stream, err))
	}
	events, err := scanEvents(rows)
	if err != nil {
		return nil, sqlstore.PostgresError(fmt.Errorf("load %s: %w", stream, err))
	}
	return events, nil
}

// loadStreamsSQL reads the events of the streams of two parallel arrays,
// each stream's by its index (a lateral scan a stream).
const loadStreamsSQL = `SELECT e.*
	FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s(stream_type, stream_id, ord)
	CROSS JOIN LATERAL (SELECT ` + eventColumns + ` FROM events
	                    WHERE events.stream_type = s.stream_type AND events.stream_id = s.stream_id) e
	ORDER BY s.ord, e.version`

// loadStreams is LoadStreams without its span: one statement.
func (s *EventStore) loadStreams(ctx context.Context, streams []ports.Stream) (map[ports.Stream][]ports.RecordedEvent, error) {
	streams = ports.Distinct(streams)
	types, ids := make([]string, len(streams)), make([]string, len(streams))
	for i, st := range streams {
		types[i], ids[i] = st.Type, st.ID
	}
	rows, err := s.reader(ctx).Query(ctx, loadStreamsSQL, types, ids)
	if err != nil {
		return nil, sqlstore.PostgresError(fmt.Errorf("load %d streams: %w", len(streams), err))
	}
	events, err := scanEvents(rows)
	if err != nil {
		return nil, sqlstore.PostgresError(fmt.Errorf("load %d streams: %w", len(streams), err))
	}
	return ports.ByStream(events), nil
}

// readAll is ReadAll without its span. It reads in (transaction id,
// sequence) order and only events whose transaction is older than every
// transaction still running that could write to this database
// (internal/pghorizon): those can no longer be joined by an event ordered
// before them. Transactions of other databases on the server do not hold it. A non-positive limit is apperr.Invalid.
func (s *EventStore) readAll(ctx context.Context, after ports.Position, limit int) ([]ports.RecordedEvent, error) {
	if limit < 1 {
		return nil, apperr.New(apperr.Invalid, "read all: limit %d, want at least 1", limit)
	}
	// The row comparison resumes strictly after `after` and is served by the
	// (transaction_id, position) index.
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
		  AND transaction_id < `+pghorizon.Expr+`
		ORDER BY transaction_id, position
		LIMIT $3`,
		after.Commit, int64(after.Prepare), limit)
	if err != nil {
		return nil, sqlstore.PostgresError(fmt.Errorf("read all after %v: %w", after, err))
	}
	events, err := scanEvents(rows)
	if err != nil {
		return nil, sqlstore.PostgresError(fmt.Errorf("read all after %v: %w", after, err))
	}
	return events, nil
}

// scanEvents reads rows of eventColumns and closes them.
func scanEvents(rows pgx.Rows) ([]ports.RecordedEvent, error) {
	defer rows.Close()
	var events []ports.RecordedEvent
	for rows.Next() {
		var e ports.RecordedEvent
		err := rows.Scan(&e.Stream.Type, &e.Stream.ID, &e.Version, &e.Position.Prepare, &e.Position.Commit,
			&e.Metadata.EventID, &e.Type, &e.Data, &e.Metadata.CorrelationID, &e.Metadata.CausationID,
			&e.Metadata.OccurredAt, &e.RecordedAt)
		if err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		e.Metadata.OccurredAt = e.Metadata.OccurredAt.UTC()
		e.RecordedAt = e.RecordedAt.UTC()
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return events, nil
}
