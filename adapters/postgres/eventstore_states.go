package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderflow/orderflow/internal/sqlstore"
	"github.com/orderflow/orderflow/ports"
)

// loadStatesSQL is the statement that reads n streams' states: for each
// stream of its VALUES (type, id, from), its snapshot when from is 0, and
// its events from `from` on, or after the snapshot it read (every event
// without one), in one statement: the snapshot and the events are of the
// same moment, so a snapshot taken meanwhile by another writer cannot leave
// a gap between them. A stream yields one row per event, or one row without
// an event; the snapshot's data comes on the first row only (the events
// after a snapshot follow it without a gap, so the first is at its version
// + 1).
//
// The streams are a VALUES list of parameters, not arrays: the planner then
// knows how many there are (with arrays it estimated ten where there is
// one).
//
// Even so the custom plans look cheaper than the generic one (they know
// from which version a stream is read, the generic plan must guess), and
// Postgres plans every execution: 150 µs an execution against 72 µs with
// the generic plan (a Load of one stream costs 90 µs). loadStates runs it
// with plan_cache_mode set to force_generic_plan for its statements only;
// TestLoadStatesReadsTheTailNotTheStream checks that generic plan.
//
// The ORDER BY in the lateral read keeps the planner from pulling it up
// into a join of the whole events table: without it, the version bound
// (an expression of the snapshot joined) became a join filter over a
// sequential scan, and every reservation of a hot SKU read its whole
// stream (TestLoadStatesReadsTheTailNotTheStream).
func loadStatesSQL(n int) string {
	values := make([]string, n)
	for i := range values {
		values[i] = fmt.Sprintf("($%d::text, $%d::text, $%d::bigint, %d)", 3*i+1, 3*i+2, 3*i+3, i+1)
	}
	return `SELECT s.ord::bigint, n.version, n.schema_version,
	       CASE WHEN e.version IS NULL OR e.version = coalesce(n.version, 0) + 1 THEN n.data END, n.taken_at,
	       e.stream_type, e.stream_id, e.version, e.position, e.transaction_id, e.event_id,
	       e.event_type, e.data, e.correlation_id, e.causation_id, e.occurred_at, e.recorded_at
	FROM (VALUES ` + strings.Join(values, ", ") + `) AS s(stream_type, stream_id, from_version, ord)
	LEFT JOIN snapshots n
	       ON s.from_version = 0 AND n.stream_type = s.stream_type AND n.stream_id = s.stream_id
	LEFT JOIN LATERAL (SELECT ` + eventColumns + ` FROM events
	                   WHERE events.stream_type = s.stream_type AND events.stream_id = s.stream_id
	                     AND events.version >= CASE WHEN s.from_version > 0 THEN s.from_version
	                                                ELSE coalesce(n.version, 0) + 1 END
	                   ORDER BY events.version) e ON true
	ORDER BY s.ord, e.version`
}

// statesPerStatement is how many streams one statement of loadStates reads
// at most; more are read by more statements in the same round trip. It
// bounds the prepared statements to as many variants.
const statesPerStatement = 8

// loadStatesSQLs are loadStatesSQL(n) for n up to statesPerStatement.
var loadStatesSQLs = func() []string {
	sqls := make([]string, statesPerStatement+1)
	for n := 1; n <= statesPerStatement; n++ {
		sqls[n] = loadStatesSQL(n)
	}
	return sqls
}()

// loadStates is LoadStates without its span: the locks, with lock in a unit
// of work, and a statement a chunk of statesPerStatement streams, all
// pipelined (one round trip) and run in that order, so the reads see every
// append committed before the locks were granted.
func (s *EventStore) loadStates(ctx context.Context, reads []ports.StateRead, lock bool) (map[ports.Stream]ports.StreamState, error) {
	reads = distinctReads(reads)
	out := make(map[ports.Stream]ports.StreamState, len(reads))
	if len(reads) == 0 {
		return out, nil
	}
	b := &pgx.Batch{}
	// For the statements of the batch only: the pipeline is one
	// transaction (the unit's, or an implicit one), which the setting, set
	// local, would outlive in a unit, so it is set back after them.
	b.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`)
	tx, inUnit := sqlstore.PgxTx(ctx, s.pool)
	locked := inUnit && lock
	if locked {
		streams := make([]ports.Stream, len(reads))
		for i, r := range reads {
			streams[i] = r.Stream
		}
		b.Queue(lockSQL, lockKeys(streams))
	}
	var chunks [][]ports.StateRead
	for chunk := range slices.Chunk(reads, statesPerStatement) {
		args := make([]any, 0, 3*len(chunk))
		for _, r := range chunk {
			args = append(args, r.Stream.Type, r.Stream.ID, max(r.From, 0))
		}
		b.Queue(loadStatesSQLs[len(chunk)], args...)
		chunks = append(chunks, chunk)
	}
	b.Queue(`SET LOCAL plan_cache_mode TO DEFAULT`)
	var br pgx.BatchResults
	if inUnit {
		br = tx.SendBatch(ctx, b)
	} else {
		br = s.pool.SendBatch(ctx, b)
	}
	err := func() error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("plan cache mode: %w", err)
		}
		if locked {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("lock %d streams: %w", len(reads), err)
			}
		}
		for _, chunk := range chunks {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			if err := scanStates(rows, chunk, out); err != nil {
				return err
			}
		}
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("plan cache mode: %w", err)
		}
		return nil
	}()
	if err = errors.Join(err, br.Close()); err != nil {
		return nil, sqlstore.PostgresError(fmt.Errorf("load %d states: %w", len(reads), err))
	}
	return out, nil
}

// scanStates reads the rows of loadStatesSQL into out and closes them.
func scanStates(rows pgx.Rows, reads []ports.StateRead, out map[ports.Stream]ports.StreamState) error {
	defer rows.Close()
	for rows.Next() {
		var (
			ord                                      int64
			snapVersion                              *int64
			schema                                   *int32
			snapData                                 []byte
			takenAt                                  *time.Time
			typ, id, eventID, eventType, corr, cause *string
			version                                  *int64
			prepare, commit                          *uint64
			data                                     []byte
			occurred, recorded                       *time.Time
		)
		if err := rows.Scan(&ord, &snapVersion, &schema, &snapData, &takenAt,
			&typ, &id, &version, &prepare, &commit, &eventID, &eventType, &data, &corr, &cause,
			&occurred, &recorded); err != nil {
			return fmt.Errorf("scan state: %w", err)
		}
		stream := reads[ord-1].Stream
		st := out[stream]
		if snapVersion != nil && snapData != nil {
			st.Snapshot = &ports.Snapshot{Stream: stream, Version: *snapVersion, SchemaVersion: int(*schema),
				Data: snapData, TakenAt: takenAt.UTC()}
		}
		if version != nil {
			st.Events = append(st.Events, ports.RecordedEvent{
				Stream: ports.Stream{Type: *typ, ID: *id}, Version: *version,
				Position: ports.Position{Commit: *commit, Prepare: *prepare},
				Type:     *eventType, Data: data, RecordedAt: recorded.UTC(),
				Metadata: ports.EventMetadata{EventID: *eventID, CorrelationID: *corr, CausationID: *cause,
					OccurredAt: occurred.UTC()},
			})
		}
		out[stream] = st
	}
	return rows.Err()
}

// distinctReads is reads with each stream once, at its first read.
func distinctReads(reads []ports.StateRead) []ports.StateRead {
	seen := make(map[ports.Stream]bool, len(reads))
	out := make([]ports.StateRead, 0, len(reads))
	for _, r := range reads {
		if !seen[r.Stream] {
			seen[r.Stream] = true
			out = append(out, r)
		}
	}
	return out
}
