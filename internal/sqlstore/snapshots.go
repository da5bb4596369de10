package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// SnapshotStore keeps aggregate snapshots in the snapshots table.
type SnapshotStore struct{ db DB }

// NewSnapshotStore returns a store on db.
func NewSnapshotStore(db DB) *SnapshotStore { return &SnapshotStore{db: db} }

// SaveSnapshot implements ports.SnapshotStore with one conditional upsert.
// Inside a unit of work it runs under a savepoint: a snapshot is only a
// cache, written by the repositories in the unit that loaded the stream, and
// a failed write must not take the unit with it (on Postgres a failed
// statement aborts the whole transaction).
func (s *SnapshotStore) SaveSnapshot(ctx context.Context, snap ports.Snapshot) error {
	if snap.Version < 1 {
		return apperr.New(apperr.Invalid, "snapshot of %s at version %d", snap.Stream, snap.Version)
	}
	db := s.db.in(ctx)
	inUnit := db.begin == nil
	if inUnit {
		if _, err := db.Exec(ctx, `SAVEPOINT orderflow_snapshot`); err != nil {
			return s.db.Dialect.errorf("save snapshot of %s: savepoint: %w", snap.Stream, err)
		}
	}
	_, err := db.Exec(ctx, `
		INSERT INTO snapshots (stream_type, stream_id, version, schema_version, data, taken_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (stream_type, stream_id) DO UPDATE
		SET version = excluded.version, schema_version = excluded.schema_version,
		    data = excluded.data, taken_at = excluded.taken_at
		WHERE snapshots.version <= excluded.version
		   OR snapshots.schema_version <> excluded.schema_version`,
		snap.Stream.Type, snap.Stream.ID, snap.Version, snap.SchemaVersion, snap.Data, s.db.Dialect.time(snap.TakenAt))
	if inUnit {
		end := `RELEASE SAVEPOINT orderflow_snapshot`
		if err != nil {
			end = `ROLLBACK TO SAVEPOINT orderflow_snapshot`
		}
		if _, endErr := db.Exec(ctx, end); endErr != nil {
			err = errors.Join(err, endErr)
		}
	}
	if err != nil {
		return s.db.Dialect.errorf("save snapshot of %s: %w", snap.Stream, err)
	}
	return nil
}

// LoadSnapshot implements ports.SnapshotStore.
func (s *SnapshotStore) LoadSnapshot(ctx context.Context, stream ports.Stream) (ports.Snapshot, error) {
	snap := ports.Snapshot{Stream: stream}
	err := s.db.QueryRow(ctx, `
		SELECT version, schema_version, data, taken_at FROM snapshots
		WHERE stream_type = ? AND stream_id = ?`, stream.Type, stream.ID).
		Scan(&snap.Version, &snap.SchemaVersion, &snap.Data, ScanTime(&snap.TakenAt))
	if errors.Is(err, sql.ErrNoRows) {
		return ports.Snapshot{}, s.db.Dialect.errorf("snapshot of %s: %w", stream, ports.ErrNotFound)
	}
	if err != nil {
		return ports.Snapshot{}, s.db.Dialect.errorf("load snapshot of %s: %w", stream, err)
	}
	return snap, nil
}
