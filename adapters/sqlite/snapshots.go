package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

var _ ports.SnapshotStore = (*SnapshotStore)(nil)

// SnapshotStore keeps aggregate snapshots in the snapshots table.
type SnapshotStore struct {
	db *sql.DB
}

// NewSnapshotStore returns a store on db, a database from Open.
func NewSnapshotStore(db *sql.DB) *SnapshotStore {
	if db == nil {
		panic("sqlite: nil database")
	}
	return &SnapshotStore{db: db}
}

// SaveSnapshot implements ports.SnapshotStore with one conditional upsert.
func (s *SnapshotStore) SaveSnapshot(ctx context.Context, snap ports.Snapshot) error {
	if snap.Version < 1 {
		return apperr.New(apperr.Invalid, "snapshot of %s at version %d", snap.Stream, snap.Version)
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO snapshots (stream_type, stream_id, version, schema_version, data, taken_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (stream_type, stream_id) DO UPDATE
		SET version = excluded.version, schema_version = excluded.schema_version,
		    data = excluded.data, taken_at = excluded.taken_at
		WHERE snapshots.version <= excluded.version
		   OR snapshots.schema_version <> excluded.schema_version`,
		snap.Stream.Type, snap.Stream.ID, snap.Version, snap.SchemaVersion, snap.Data, encodeTime(snap.TakenAt))
	if err != nil {
		return fmt.Errorf("sqlite: save snapshot of %s: %w", snap.Stream, err)
	}
	return nil
}

// LoadSnapshot implements ports.SnapshotStore.
func (s *SnapshotStore) LoadSnapshot(ctx context.Context, stream ports.Stream) (ports.Snapshot, error) {
	snap := ports.Snapshot{Stream: stream}
	var taken string
	err := s.db.QueryRowContext(ctx, `
		SELECT version, schema_version, data, taken_at FROM snapshots
		WHERE stream_type = ? AND stream_id = ?`, stream.Type, stream.ID).
		Scan(&snap.Version, &snap.SchemaVersion, &snap.Data, &taken)
	if errors.Is(err, sql.ErrNoRows) {
		return ports.Snapshot{}, fmt.Errorf("snapshot of %s: %w", stream, ports.ErrNotFound)
	}
	if err != nil {
		return ports.Snapshot{}, fmt.Errorf("sqlite: load snapshot of %s: %w", stream, err)
	}
	if snap.TakenAt, err = decodeTime(taken); err != nil {
		return ports.Snapshot{}, fmt.Errorf("sqlite: snapshot of %s: %w", stream, err)
	}
	return snap, nil
}
