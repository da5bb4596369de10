package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

var _ ports.SnapshotStore = (*SnapshotStore)(nil)

// SnapshotStore keeps aggregate snapshots in the snapshots table.
type SnapshotStore struct {
	pool *pgxpool.Pool
}

// NewSnapshotStore panics on a nil pool.
func NewSnapshotStore(pool *pgxpool.Pool) *SnapshotStore {
	if pool == nil {
		panic("postgres.NewSnapshotStore: nil pool")
	}
	return &SnapshotStore{pool: pool}
}

// SaveSnapshot implements ports.SnapshotStore with one conditional upsert.
func (s *SnapshotStore) SaveSnapshot(ctx context.Context, snap ports.Snapshot) error {
	if snap.Version < 1 {
		return apperr.New(apperr.Invalid, "snapshot of %s at version %d", snap.Stream, snap.Version)
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO snapshots (stream_type, stream_id, version, schema_version, data, taken_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (stream_type, stream_id) DO UPDATE
		SET version = excluded.version, schema_version = excluded.schema_version,
		    data = excluded.data, taken_at = excluded.taken_at
		WHERE snapshots.version <= excluded.version
		   OR snapshots.schema_version <> excluded.schema_version`,
		snap.Stream.Type, snap.Stream.ID, snap.Version, snap.SchemaVersion, snap.Data, snap.TakenAt)
	if err != nil {
		return fmt.Errorf("save snapshot of %s: %w", snap.Stream, err)
	}
	return nil
}

// LoadSnapshot implements ports.SnapshotStore.
func (s *SnapshotStore) LoadSnapshot(ctx context.Context, stream ports.Stream) (ports.Snapshot, error) {
	snap := ports.Snapshot{Stream: stream}
	err := s.pool.QueryRow(ctx, `
		SELECT version, schema_version, data, taken_at FROM snapshots
		WHERE stream_type = $1 AND stream_id = $2`, stream.Type, stream.ID).
		Scan(&snap.Version, &snap.SchemaVersion, &snap.Data, &snap.TakenAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return ports.Snapshot{}, fmt.Errorf("snapshot of %s: %w", stream, ports.ErrNotFound)
	}
	if err != nil {
		return ports.Snapshot{}, fmt.Errorf("load snapshot of %s: %w", stream, err)
	}
	snap.TakenAt = snap.TakenAt.UTC()
	return snap, nil
}
