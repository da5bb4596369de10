package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/orderflow/orderflow/ports"
)

var _ ports.CheckpointStore = (*CheckpointStore)(nil)

// CheckpointStore keeps projection checkpoints in projection_checkpoints.
// SQLite positions are one sequence: a Position's Commit and Prepare are
// both the event's position.
type CheckpointStore struct {
	db *sql.DB
}

// NewCheckpointStore returns a store on db, a database from Open.
func NewCheckpointStore(db *sql.DB) *CheckpointStore {
	if db == nil {
		panic("sqlite: nil database")
	}
	return &CheckpointStore{db: db}
}

// Checkpoint implements ports.CheckpointStore.
func (s *CheckpointStore) Checkpoint(ctx context.Context, projection string) (ports.Position, error) {
	var pos int64
	err := s.db.QueryRowContext(ctx, `SELECT position FROM projection_checkpoints WHERE projection = ?`,
		projection).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return ports.Position{}, nil
	}
	if err != nil {
		return ports.Position{}, fmt.Errorf("sqlite: checkpoint of %s: %w", projection, err)
	}
	return ports.Position{Commit: uint64(pos), Prepare: uint64(pos)}, nil
}

// SaveCheckpoint implements ports.CheckpointStore.
func (s *CheckpointStore) SaveCheckpoint(ctx context.Context, projection string, pos ports.Position) error {
	if pos.Prepare > math.MaxInt64 {
		return fmt.Errorf("sqlite: checkpoint of %s: position %v out of range", projection, pos)
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO projection_checkpoints (projection, position, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (projection) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
		WHERE projection_checkpoints.position < excluded.position`,
		projection, int64(pos.Prepare), encodeTime(time.Now()))
	if err != nil {
		return fmt.Errorf("sqlite: save checkpoint of %s at %v: %w", projection, pos, err)
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
	var oldest sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT count(*), min(recorded_at) FROM events WHERE position > ?`,
		int64(pos.Prepare)).Scan(&lag.Events, &oldest)
	if err != nil {
		return ports.ProjectionLag{}, fmt.Errorf("sqlite: lag of %s: %w", projection, err)
	}
	if oldest.Valid {
		if lag.Oldest, err = decodeTime(oldest.String); err != nil {
			return ports.ProjectionLag{}, fmt.Errorf("sqlite: lag of %s: %w", projection, err)
		}
	}
	return lag, nil
}
