package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/sqlstore"
	"github.com/orderflow/orderflow/ports"
)

const eventColumns = `stream_type, stream_id, version, position, event_type, data,
	event_id, correlation_id, causation_id, occurred_at, recorded_at`

// loadSQL reads a stream's events from a version on.
const loadSQL = `SELECT ` + eventColumns + ` FROM events
	WHERE stream_type = ? AND stream_id = ? AND version >= ?
	ORDER BY version`

// load is Load without its span.
func (s *EventStore) load(ctx context.Context, stream ports.Stream, fromVersion int64) ([]ports.RecordedEvent, error) {
	events, err := s.query(ctx, loadSQL, stream.Type, stream.ID, fromVersion)
	if err != nil {
		return nil, fmt.Errorf("sqlite event store: load %s: %w", stream, err)
	}
	return events, nil
}

// loadStreams is LoadStreams without its span: a load a stream, on the
// same connection (an embedded database has no round trip to save).
func (s *EventStore) loadStreams(ctx context.Context, streams []ports.Stream) (map[ports.Stream][]ports.RecordedEvent, error) {
	return ports.LoadEach(ctx, s.load, streams)
}

// readAll is ReadAll without its span. An event at position p is after
// `after` if Position{p, p} is; the first such p is computed here.
func (s *EventStore) readAll(ctx context.Context, after ports.Position, limit int) ([]ports.RecordedEvent, error) {
	if limit < 1 {
		return nil, apperr.New(apperr.Invalid, "read all: limit %d, want at least 1", limit)
	}
	from := after.Commit
	if after.Commit <= after.Prepare {
		if from == math.MaxUint64 {
			return nil, nil
		}
		from++
	}
	if from > math.MaxInt64 {
		return nil, nil
	}
	events, err := s.query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE position >= ? ORDER BY position LIMIT ?`, int64(from), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite event store: read all after %v: %w", after, err)
	}
	return events, nil
}

// sqlQuerier is a *sql.DB or a *sql.Tx.
type sqlQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *EventStore) query(ctx context.Context, query string, args ...any) ([]ports.RecordedEvent, error) {
	var q sqlQuerier = s.db
	if tx, ok := sqlstore.SQLTx(ctx, s.db); ok {
		q = tx // a unit of work's reads see its own appends
	}
	return queryEvents(ctx, q, query, args...)
}

// loadStates is LoadStates without its span: a snapshot read and a load a
// stream, in the unit of work of ctx or else in a read transaction of
// their own, so that each stream's snapshot and events agree. A unit of
// work on SQLite holds the database's write lock from its start: lock
// changes nothing.
func (s *EventStore) loadStates(ctx context.Context, reads []ports.StateRead, _ bool) (_ map[ports.Stream]ports.StreamState, err error) {
	q, ok := sqlstore.SQLTx(ctx, s.db)
	if !ok {
		tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, fmt.Errorf("sqlite event store: load states: %w", err)
		}
		defer func() { err = errors.Join(err, tx.Rollback()) }()
		q = tx
	}
	out := make(map[ports.Stream]ports.StreamState, len(reads))
	for _, r := range reads {
		if _, done := out[r.Stream]; done {
			continue
		}
		var st ports.StreamState
		from := r.From
		if from < 1 {
			if st.Snapshot, err = loadSnapshot(ctx, q, r.Stream); err != nil {
				return nil, fmt.Errorf("sqlite event store: snapshot of %s: %w", r.Stream, err)
			}
			from = 1
			if st.Snapshot != nil {
				from = st.Snapshot.Version + 1
			}
		}
		if st.Events, err = queryEvents(ctx, q, loadSQL, r.Stream.Type, r.Stream.ID, from); err != nil {
			return nil, fmt.Errorf("sqlite event store: load %s: %w", r.Stream, err)
		}
		out[r.Stream] = st
	}
	return out, nil
}

// loadSnapshot reads a stream's snapshot: nil when it has none.
func loadSnapshot(ctx context.Context, q sqlQuerier, stream ports.Stream) (*ports.Snapshot, error) {
	snap := ports.Snapshot{Stream: stream}
	var takenAt string
	err := q.QueryRowContext(ctx, `SELECT version, schema_version, data, taken_at FROM snapshots
		WHERE stream_type = ? AND stream_id = ?`, stream.Type, stream.ID).
		Scan(&snap.Version, &snap.SchemaVersion, &snap.Data, &takenAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if snap.TakenAt, err = decodeTime(takenAt); err != nil {
		return nil, err
	}
	return &snap, nil
}

// queryEvents runs a query of eventColumns on q.
func queryEvents(ctx context.Context, q sqlQuerier, query string, args ...any) ([]ports.RecordedEvent, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var events []ports.RecordedEvent
	for rows.Next() {
		var (
			e                    ports.RecordedEvent
			pos                  int64
			data                 string
			occurred, recordedAt string
		)
		if err := rows.Scan(&e.Stream.Type, &e.Stream.ID, &e.Version, &pos, &e.Type, &data,
			&e.Metadata.EventID, &e.Metadata.CorrelationID, &e.Metadata.CausationID, &occurred, &recordedAt); err != nil {
			return nil, err
		}
		e.Position = ports.Position{Commit: uint64(pos), Prepare: uint64(pos)}
		e.Data = []byte(data)
		if e.Metadata.OccurredAt, err = decodeTime(occurred); err != nil {
			return nil, err
		}
		if e.RecordedAt, err = decodeTime(recordedAt); err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, rows.Err()
}
