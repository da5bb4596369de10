package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/internal/pghorizon"
)

// outboxAckTimeout bounds the offset write and commit after a batch was
// published. It outlives the caller's context, so that a batch published
// while the process is stopping is still acknowledged.
const outboxAckTimeout = 15 * time.Second

// OutboxReader reads the outbox topic for one consumer group in batches,
// through watermill-sql's adapters (pghorizon.Schema: its own select,
// below this database's horizon, and DefaultPostgreSQLSchema's unmarshal;
// DefaultPostgreSQLOffsetsAdapter's offsets table and ack), so the group's
// offset is the one watermill-sql's Subscriber keeps: it can
// take over from the Watermill forwarder, and DeleteForwardedOutbox reads
// it.
//
// Like that Subscriber, a batch runs in one REPEATABLE READ transaction that
// locks the group's offsets row (SELECT ... FOR UPDATE): readers of the same
// group in every process are serialized, each batch sees only rows of
// transactions committed before every running one began (so a late commit
// is never skipped), and the offset moves only when the transaction commits.
type OutboxReader struct {
	pool    *pgxpool.Pool
	topic   string
	group   string
	schema  pghorizon.Schema
	offsets wsql.DefaultPostgreSQLOffsetsAdapter
}

// NewOutboxReader registers group on the outbox topic (at its first row,
// unless it already is) and returns its reader. The outbox tables must exist
// (InitializeOutbox).
func NewOutboxReader(ctx context.Context, pool *pgxpool.Pool, topic, group string) (*OutboxReader, error) {
	if pool == nil || topic == "" || group == "" {
		return nil, errors.New("outbox reader: pool, topic and group are required")
	}
	r := &OutboxReader{pool: pool, topic: topic, group: group, schema: OutboxSchema}
	queries, err := r.offsets.BeforeSubscribingQueries(wsql.BeforeSubscribingQueriesParams{Topic: topic, ConsumerGroup: group})
	if err != nil {
		return nil, fmt.Errorf("outbox reader: %w", err)
	}
	for _, q := range queries {
		if _, err := pool.Exec(ctx, q.Query, q.Args...); err != nil {
			return nil, fmt.Errorf("outbox reader: register group %s on %s: %w", group, topic, err)
		}
	}
	return r, nil
}

// ForwardBatch reads up to max rows after the group's offset, in
// (transaction id, offset) order, and calls forward with them while holding
// the group's offsets row lock; when forward returns nil it acknowledges the
// last row and commits. It returns how many rows it acknowledged: 0 when
// there were none, or when another reader of the group held the lock and
// moved the offset meanwhile (a serialization failure: the next call reads
// the new offset). The rows are Watermill messages as watermill-sql's
// Subscriber delivers them (the row's UUID, payload and metadata).
func (r *OutboxReader) ForwardBatch(ctx context.Context, max int, forward func(ctx context.Context, rows []*message.Message) error) (n int, err error) {
	if max < 1 {
		return 0, errors.New("outbox reader: batch size must be positive")
	}
	tx, err := r.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return 0, fmt.Errorf("outbox reader: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			// Rollback needs a live context even when ctx has ended.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outboxAckTimeout)
			defer cancel()
			if rerr := tx.Rollback(rctx); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) {
				err = errors.Join(err, fmt.Errorf("outbox reader: rollback: %w", rerr))
			}
		}
	}()

	rows, err := r.read(ctx, tx, max)
	if isSerializationFailure(err) {
		return 0, nil
	}
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	msgs := make([]*message.Message, len(rows))
	for i, row := range rows {
		msgs[i] = row.Msg
	}
	if err := forward(ctx, msgs); err != nil {
		return 0, err
	}

	ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outboxAckTimeout)
	defer cancel()
	for _, row := range rows {
		q, err := r.offsets.ConsumedMessageQuery(wsql.ConsumedMessageQueryParams{Topic: r.topic, Row: row, ConsumerGroup: r.group})
		if err != nil {
			return 0, fmt.Errorf("outbox reader: %w", err)
		}
		if !q.IsZero() {
			if _, err := tx.Exec(ackCtx, q.Query, q.Args...); err != nil {
				return 0, fmt.Errorf("outbox reader: mark row consumed: %w", err)
			}
		}
	}
	ack, err := r.offsets.AckMessageQuery(wsql.AckMessageQueryParams{
		Topic: r.topic, LastRow: rows[len(rows)-1], Rows: rows, ConsumerGroup: r.group,
	})
	if err != nil {
		return 0, fmt.Errorf("outbox reader: %w", err)
	}
	if _, err := tx.Exec(ackCtx, ack.Query, ack.Args...); err != nil {
		return 0, fmt.Errorf("outbox reader: acknowledge %d rows: %w", len(rows), err)
	}
	if err := tx.Commit(ackCtx); err != nil {
		return 0, fmt.Errorf("outbox reader: commit acknowledgement of %d rows: %w", len(rows), err)
	}
	committed = true
	return len(rows), nil
}

// read runs the schema's select of the next batch, which locks the
// group's offsets row, and unmarshals the rows with its schema adapter.
func (r *OutboxReader) read(ctx context.Context, tx pgx.Tx, max int) ([]wsql.Row, error) {
	schema := r.schema
	schema.SubscribeBatchSize = max
	q, err := schema.SelectQuery(wsql.SelectQueryParams{Topic: r.topic, ConsumerGroup: r.group, OffsetsAdapter: r.offsets})
	if err != nil {
		return nil, fmt.Errorf("outbox reader: %w", err)
	}
	rs, err := tx.Query(ctx, q.Query, q.Args...)
	if err != nil {
		return nil, fmt.Errorf("outbox reader: read %s: %w", r.topic, err)
	}
	defer rs.Close()
	var rows []wsql.Row
	for rs.Next() {
		keep := &scanKeeper{Rows: rs}
		row, err := schema.UnmarshalMessage(wsql.UnmarshalMessageParams{Row: keep})
		if err != nil {
			bare, ok := keep.withoutMetadata()
			if !ok {
				return nil, fmt.Errorf("outbox reader: read %s: %w", r.topic, err)
			}
			row = bare
		}
		rows = append(rows, row)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("outbox reader: read %s: %w", r.topic, err)
	}
	return rows, nil
}

// scanKeeper remembers what UnmarshalMessage scanned. A row whose metadata
// column is JSON but not an object of strings (written by hand: the outbox
// publisher cannot) fails UnmarshalMessage after a successful scan; it is
// then delivered without its row metadata, which the forwarder never
// forwards (the event's metadata is in the envelope), rather than stopping
// the outbox for good on every read.
type scanKeeper struct {
	pgx.Rows
	dest []any
	err  error
}

func (s *scanKeeper) Scan(dest ...any) error {
	s.dest = dest
	s.err = s.Rows.Scan(dest...)
	return s.err
}

// withoutMetadata rebuilds the row from the scanned columns (offset,
// transaction id, uuid, payload, metadata: DefaultPostgreSQLSchema's order),
// if the scan succeeded and had that shape.
func (s *scanKeeper) withoutMetadata() (wsql.Row, bool) {
	if s.err != nil || len(s.dest) != 5 {
		return wsql.Row{}, false
	}
	offset, ok1 := s.dest[0].(*int64)
	txID, ok2 := s.dest[1].(*wsql.XID8)
	id, ok3 := s.dest[2].(*[]byte)
	payload, ok4 := s.dest[3].(*[]byte)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return wsql.Row{}, false
	}
	return wsql.Row{
		Offset: *offset, UUID: *id, Payload: *payload,
		Msg:       message.NewMessage(string(*id), *payload),
		ExtraData: map[string]any{"transaction_id": *txID},
	}, true
}

// isSerializationFailure reports SQLSTATE 40001: under REPEATABLE READ, the
// offsets row lock was granted after another reader of the group updated
// the row, so this transaction's snapshot is stale.
func isSerializationFailure(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40001"
}
