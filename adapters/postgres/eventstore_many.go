package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderflow/orderflow/internal/appendmany"
	"github.com/orderflow/orderflow/internal/sqlstore"
	"github.com/orderflow/orderflow/ports"
)

// appendMany is AppendMany without its span: one transaction for every
// stream, in a fixed number of statements whatever the number of streams
// (the locks and the versions in one round trip, the events in one INSERT,
// their outbox messages in one INSERT whatever their topics). It first takes
// every stream's lock, in a fixed order (see lockStreams), so two calls over
// overlapping streams wait for each other instead of deadlocking, and each
// stream's versions, AnyVersion ones included, follow ReadAll's order. A
// version clash on any stream is a *ports.ConcurrencyError for it, and the
// whole transaction rolls back. AnyVersion parts retry a lost race a few
// times, like Append.
func (s *EventStore) appendMany(ctx context.Context, appends []ports.StreamAppend) error {
	sorted, err := appendmany.Prepare(appends)
	if err != nil {
		return err
	}
	streams := make([]ports.Stream, len(sorted))
	for i, a := range sorted {
		streams[i] = a.Stream
	}
	for attempt := 1; ; attempt++ {
		var failed ports.StreamAppend
		err := s.inTx(ctx, fmt.Sprintf("%d streams", len(sorted)), func(tx pgx.Tx) error {
			heads, err := lockAndReadHeads(ctx, tx, streams)
			if err != nil {
				return fmt.Errorf("append to %d streams: %w", len(streams), err)
			}
			for i, a := range sorted {
				failed = a
				if a.ExpectedVersion != ports.AnyVersion && heads[i].version != a.ExpectedVersion {
					return &ports.ConcurrencyError{Stream: a.Stream, Expected: a.ExpectedVersion, Actual: heads[i].version}
				}
				if heads[i].younger {
					return errYoungerHead{a.Stream}
				}
			}
			recorded, err := insertManyEvents(ctx, tx, sorted, heads)
			if err != nil {
				return err
			}
			return s.publishOutboxMany(ctx, tx, recorded)
		})
		if younger := (errYoungerHead{}); errors.As(err, &younger) {
			failed, err = appendOf(sorted, younger.stream), errVersionClash
		}
		if err == nil || !isVersionClash(err) {
			return sqlstore.PostgresError(err)
		}
		_, inUnit := sqlstore.PgxTx(ctx, s.pool)
		if attempt < anyVersionAttempts && appendmany.AnyVersionOnly(sorted) && !inUnit {
			continue
		}
		actual, verr := s.streamVersion(ctx, s.pool, failed.Stream)
		if verr != nil {
			return fmt.Errorf("append to %s: read version after conflict: %w", failed.Stream, errors.Join(err, verr))
		}
		return &ports.ConcurrencyError{Stream: failed.Stream, Expected: failed.ExpectedVersion, Actual: actual}
	}
}

// head is what lockAndReadHeads reads of a stream.
type head struct {
	version int64
	// younger: the stream's last event was written by a transaction younger
	// than the one reading it (which wrote something before). Appending
	// now would give the stream's next event an older transaction id than
	// its predecessor: ReadAll would deliver them out of order.
	younger bool
}

// errYoungerHead: an append found a younger transaction's event at the head
// of stream (head.younger). It is a conflict: the unit of work that made it
// runs again, with a transaction that takes the stream's lock first.
type errYoungerHead struct{ stream ports.Stream }

func (e errYoungerHead) Error() string {
	return fmt.Sprintf("append to %s: its last event is younger than this transaction", e.stream)
}

// errVersionClash stands for a clash found by this package rather than by
// the unique index (isVersionClash matches both).
var errVersionClash = errors.New("version clash")

func appendOf(appends []ports.StreamAppend, stream ports.Stream) ports.StreamAppend {
	for _, a := range appends {
		if a.Stream == stream {
			return a
		}
	}
	return ports.StreamAppend{Stream: stream}
}

// headsSQL reads the version of each stream of two parallel arrays (0 for
// an unknown stream), in their order, and whether its last event is younger
// than the reading transaction (false before that transaction wrote
// anything: it then has no id yet). Each stream costs one backward index
// step, as versionSQL does.
const headsSQL = `SELECT coalesce(h.version, 0), coalesce(h.transaction_id > pg_current_xact_id_if_assigned(), false)
	FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s(stream_type, stream_id, ord)
	LEFT JOIN LATERAL (SELECT version, transaction_id FROM events e
	                   WHERE e.stream_type = s.stream_type AND e.stream_id = s.stream_id
	                   ORDER BY version DESC LIMIT 1) h ON true
	ORDER BY s.ord`

// lockAndReadHeads takes the streams' locks (as lockStreams) and then reads
// their heads, in one round trip: the two statements are pipelined, the
// second runs after the first, with a snapshot of its own taken once the
// locks are held, so it sees every append committed before.
func lockAndReadHeads(ctx context.Context, tx pgx.Tx, streams []ports.Stream) ([]head, error) {
	types, ids := make([]string, len(streams)), make([]string, len(streams))
	for i, s := range streams {
		types[i], ids[i] = s.Type, s.ID
	}
	b := &pgx.Batch{}
	b.Queue(lockSQL, lockKeys(streams))
	b.Queue(headsSQL, types, ids)
	br := tx.SendBatch(ctx, b)
	heads := make([]head, 0, len(streams))
	err := func() error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("lock %d streams: %w", len(streams), err)
		}
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("read versions: %w", err)
		}
		for rows.Next() {
			var h head
			if err := rows.Scan(&h.version, &h.younger); err != nil {
				rows.Close()
				return fmt.Errorf("read versions: %w", err)
			}
			heads = append(heads, h)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read versions: %w", err)
		}
		if len(heads) != len(streams) {
			return fmt.Errorf("read versions: %d rows for %d streams", len(heads), len(streams))
		}
		return nil
	}()
	return heads, errors.Join(err, br.Close())
}

// insertManyEvents inserts every part's events, each stream's at the
// versions after its head, in one statement, in order (positions follow
// the parts' order, and versions within each), and returns them recorded.
func insertManyEvents(ctx context.Context, tx pgx.Tx, appends []ports.StreamAppend, heads []head) ([]ports.RecordedEvent, error) {
	var n int
	for _, a := range appends {
		n += len(a.Events)
	}
	stypes, sids, versions := make([]string, 0, n), make([]string, 0, n), make([]int64, 0, n)
	ids, types, data := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	corr, caus, occurred := make([]string, 0, n), make([]string, 0, n), make([]time.Time, 0, n)
	recorded := make([]ports.RecordedEvent, 0, n)
	index := make(map[string]int, n) // event id → its place in recorded
	for i, a := range appends {
		for j, e := range a.Events {
			v := heads[i].version + int64(j) + 1
			stypes, sids, versions = append(stypes, a.Stream.Type), append(sids, a.Stream.ID), append(versions, v)
			ids, types, data = append(ids, e.Metadata.EventID), append(types, e.Type), append(data, string(e.Data))
			corr, caus, occurred = append(corr, e.Metadata.CorrelationID), append(caus, e.Metadata.CausationID), append(occurred, e.Metadata.OccurredAt)
			index[uuid.MustParse(e.Metadata.EventID).String()] = len(recorded) // Prepare checked it
			recorded = append(recorded, ports.RecordedEvent{Stream: a.Stream, Version: v, Type: e.Type, Data: e.Data, Metadata: e.Metadata})
		}
	}
	what := fmt.Sprintf("%d streams", len(appends))
	if len(appends) == 1 {
		what = appends[0].Stream.String()
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO events (stream_type, stream_id, version, event_id, event_type, data,
		                    correlation_id, causation_id, occurred_at)
		SELECT e.stream_type, e.stream_id, e.version, e.event_id, e.event_type, e.data::json,
		       e.correlation_id, e.causation_id, e.occurred_at
		FROM unnest($1::text[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])
		     WITH ORDINALITY AS e(stream_type, stream_id, version, event_id, event_type, data, correlation_id, causation_id, occurred_at, ord)
		ORDER BY e.ord
		RETURNING event_id::text, position, transaction_id, recorded_at`,
		stypes, sids, versions, ids, types, data, corr, caus, occurred)
	if err != nil {
		return nil, insertError(what, err)
	}
	got := 0
	for rows.Next() {
		var id string
		var pos ports.Position
		var at time.Time
		if err := rows.Scan(&id, &pos.Prepare, &pos.Commit, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("append to %s: scan: %w", what, err)
		}
		i, ok := index[id]
		if !ok {
			rows.Close()
			return nil, fmt.Errorf("append to %s: the insert returned an unknown event %s", what, id)
		}
		recorded[i].Position, recorded[i].RecordedAt = pos, at.UTC()
		got++
	}
	if err := rows.Err(); err != nil {
		return nil, insertError(what, err)
	}
	if got != n {
		return nil, fmt.Errorf("append to %s: %d events inserted, want %d", what, got, n)
	}
	return recorded, nil
}
