package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/orderflow/orderflow/ports"
)

// CheckpointStore keeps projection checkpoints in projection_checkpoints,
// beside the events table it measures lag against.
type CheckpointStore struct{ db DB }

// NewCheckpointStore returns a store on db.
func NewCheckpointStore(db DB) *CheckpointStore { return &CheckpointStore{db: db} }

// checkpointSQL is how a database orders its events, as checkpoints store
// and compare positions: Postgres by (transaction id, position), SQLite by
// one position.
type checkpointSQL struct {
	// read selects a checkpoint's Commit (as text) and Prepare; one
	// argument, the projection.
	read string
	// save moves a checkpoint forward only.
	save     string
	saveArgs func(projection string, pos ports.Position) ([]any, error)
	// lag counts the events after a position and selects the oldest's
	// recorded_at.
	lag     string
	lagArgs func(pos ports.Position) []any
}

// Checkpoint implements ports.CheckpointStore.
func (s *CheckpointStore) Checkpoint(ctx context.Context, projection string) (ports.Position, error) {
	var (
		commit  string
		prepare int64
	)
	err := s.db.QueryRow(ctx, s.db.Dialect.checkpoints.read, projection).Scan(&commit, &prepare)
	if errors.Is(err, sql.ErrNoRows) {
		return ports.Position{}, nil
	}
	if err != nil {
		return ports.Position{}, s.db.Dialect.errorf("checkpoint of %s: %w", projection, err)
	}
	c, err := strconv.ParseUint(commit, 10, 64)
	if err != nil {
		return ports.Position{}, s.db.Dialect.errorf("checkpoint of %s: commit %q: %w", projection, commit, err)
	}
	return ports.Position{Commit: c, Prepare: uint64(prepare)}, nil
}

// SaveCheckpoint implements ports.CheckpointStore: one upsert that only
// moves forward.
func (s *CheckpointStore) SaveCheckpoint(ctx context.Context, projection string, pos ports.Position) error {
	cp := s.db.Dialect.checkpoints
	args, err := cp.saveArgs(projection, pos)
	if err == nil {
		_, err = s.db.Exec(ctx, cp.save, args...)
	}
	if err != nil {
		return s.db.Dialect.errorf("save checkpoint of %s at %v: %w", projection, pos, err)
	}
	return nil
}

// Lag implements ports.CheckpointStore.
func (s *CheckpointStore) Lag(ctx context.Context, projection string) (ports.ProjectionLag, error) {
	pos, err := s.Checkpoint(ctx, projection)
	if err != nil {
		return ports.ProjectionLag{}, err
	}
	cp := s.db.Dialect.checkpoints
	var lag ports.ProjectionLag
	err = s.db.QueryRow(ctx, cp.lag, cp.lagArgs(pos)...).Scan(&lag.Events, ScanTime(&lag.Oldest))
	if err != nil {
		return ports.ProjectionLag{}, s.db.Dialect.errorf("lag of %s: %w", projection, err)
	}
	return lag, nil
}
