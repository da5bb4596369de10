package repository

import (
	"context"
	"errors"
	"log/slog"

	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/ports"
)

// DefaultSnapshotEvery is how many events an order's snapshot may lag behind
// its stream before a new one is taken.
const DefaultSnapshotEvery = 100

// EnableSnapshots makes Load start from the order's snapshot and read only
// the events after it (once the order's stream has reached every events: a
// shorter one is read whole, without looking for a snapshot), and take a
// new snapshot whenever the state it holds
// is every or more events past the stored one (after a load, or after
// Update stored new events). A snapshot of another order.SnapshotSchemaVersion,
// or one that cannot be decoded, is ignored: the order is folded from all its
// events and a fresh snapshot replaces the stale one.
//
// Snapshots are a cache: failing to read or write one is logged and the
// events are used instead; it never fails a command. Call before use.
func (r *Orders) EnableSnapshots(store ports.SnapshotStore, every int, logger *slog.Logger) *Orders {
	if store == nil || every < 1 {
		panic("repository: snapshots need a store and every >= 1")
	}
	if logger == nil {
		logger = slog.Default()
	}
	r.snapshots, r.snapshotEvery, r.logger = store, int64(every), logger
	r.long = NewBounded[struct{}](longStreams)
	return r
}

// loadSnapshot returns the order from its usable snapshot and the version it
// is at, or (nil, 0) when there is none to use.
func (r *Orders) loadSnapshot(ctx context.Context, orderID string) (*order.Order, int64) {
	snap, err := r.snapshots.LoadSnapshot(ctx, Stream(orderID))
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return nil, 0
	case err != nil:
		r.logger.WarnContext(ctx, "cannot read snapshot; loading every event", "order_id", orderID, "error", err)
		return nil, 0
	case snap.SchemaVersion != order.SnapshotSchemaVersion:
		r.logger.InfoContext(ctx, "ignoring a snapshot of another schema", "order_id", orderID,
			"schema_version", snap.SchemaVersion, "want", order.SnapshotSchemaVersion)
		return nil, 0
	}
	o, err := order.DecodeSnapshot(snap.Data)
	if err != nil || o.Version() != snap.Version || o.ID() != orderID {
		r.logger.WarnContext(ctx, "ignoring an unreadable snapshot", "order_id", orderID, "error", err)
		return nil, 0
	}
	return o, snap.Version
}

// maybeSnapshot stores o's state if it is at least snapshotEvery events past
// the snapshot at base. o must have no changes that are not stored.
func (r *Orders) maybeSnapshot(ctx context.Context, o *order.Order, base int64) {
	if r.snapshots == nil || o.Version()-base < r.snapshotEvery {
		return
	}
	r.long.Put(o.ID(), struct{}{}) // loads start from its snapshot from now on
	storeSnapshot(ctx, r.snapshots, r.logger, ports.Snapshot{Stream: Stream(o.ID()), Version: o.Version(),
		SchemaVersion: order.SnapshotSchemaVersion, TakenAt: r.clock.Now()},
		func() ([]byte, error) { return order.EncodeSnapshot(o) })
}

// storeSnapshot stores snap with the state encode returns as its Data.
// Snapshots are a cache: a failure is logged, never returned.
func storeSnapshot(ctx context.Context, store ports.SnapshotStore, logger *slog.Logger, snap ports.Snapshot, encode func() ([]byte, error)) {
	data, err := encode()
	if err == nil {
		snap.Data = data
		err = store.SaveSnapshot(ctx, snap)
	}
	if err != nil {
		logger.WarnContext(ctx, "cannot store snapshot", "stream", snap.Stream.String(), "version", snap.Version, "error", err)
	}
}
