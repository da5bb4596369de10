package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/ports"
)

var _ ports.CheckpointStore = (*CheckpointStore)(nil)

// CheckpointStore keeps projection checkpoints in projection_checkpoints,
// beside the events table it measures lag against.
type CheckpointStore struct {
	pool *pgxpool.Pool
}

// NewCheckpointStore panics on a nil pool.
func NewCheckpointStore(pool *pgxpool.Pool) *CheckpointStore {
	if pool == nil {
		panic("postgres.NewCheckpointStore: nil pool")
	}
	return &CheckpointStore{pool: pool}
}

// Checkpoint implements ports.CheckpointStore.
func (s *CheckpointStore) Checkpoint(ctx context.Context, projection string) (ports.Position, error) {
	var (
		commit  string
		prepare int64
	)
	err := s.pool.QueryRow(ctx, `SELECT transaction_id::text, position FROM projection_checkpoints
		WHERE projection = $1`, projection).Scan(&commit, &prepare)
	if errors.Is(err, pgx.ErrNoRows) {
		return ports.Position{}, nil
	}
	if err != nil {
		return ports.Position{}, fmt.Errorf("checkpoint of %s: %w", projection, err)
	}
	c, err := strconv.ParseUint(commit, 10, 64)
	if err != nil {
		return ports.Position{}, fmt.Errorf("checkpoint of %s: transaction id %q: %w", projection, commit, err)
	}
	return ports.Position{Commit: c, Prepare: uint64(prepare)}, nil
}

// SaveCheckpoint implements ports.CheckpointStore: one upsert that only
// moves forward.
func (s *CheckpointStore) SaveCheckpoint(ctx context.Context, projection string, pos ports.Position) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO projection_checkpoints (projection, transaction_id, position)
		VALUES ($1, $2::text::xid8, $3)
		ON CONFLICT (projection) DO UPDATE
		SET transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()
		WHERE (projection_checkpoints.transaction_id, projection_checkpoints.position)
		    < (excluded.transaction_id, excluded.position)`,
		projection, fmt.Sprint(pos.Commit), int64(pos.Prepare))
	if err != nil {
		return fmt.Errorf("save checkpoint of %s at %v: %w", projection, pos, err)
	}
	return nil
}

// Lag implements ports.CheckpointStore.
func (s *CheckpointStore) Lag(ctx context.Context, projection string) (ports.ProjectionLag, error) {
	pos, err := s.Checkpoint(ctx, projection)
	if err != nil {
		return ports.ProjectionLag{}, err
	}
	var lag ports.ProjectionLag
	var oldest *time.Time
	err = s.pool.QueryRow(ctx, `SELECT count(*), min(recorded_at) FROM events
		WHERE (transaction_id, position) > ($1::text::xid8, $2::bigint)`,
		fmt.Sprint(pos.Commit), int64(pos.Prepare)).Scan(&lag.Events, &oldest)
	if err != nil {
		return ports.ProjectionLag{}, fmt.Errorf("lag of %s: %w", projection, err)
	}
	if oldest != nil {
		lag.Oldest = oldest.UTC()
	}
	return lag, nil
}
