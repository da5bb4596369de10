package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/orderflow/orderflow/ports"
)

// lockStreams takes a transaction-scoped advisory lock per stream, in
// ascending key order, then reads each stream's version, and must run
// before tx writes anything. It returns the versions in the order of streams.
//
// ReadAll orders events by transaction id, and PostgreSQL assigns a
// transaction its id at its first write. Holding a stream's lock from before
// that first write until commit makes the writers of one stream take turns:
// the next writer gets its id, and reads the stream's version, only after
// the previous one committed. So a stream's versions and its positions
// always grow together. Without it, an AppendMany whose first insert (on
// another stream) had already given it an id could read a version committed
// meanwhile by a younger transaction and write the next one behind it: a
// catch-up reader would get v8 before v7.
//
// Ascending key order keeps two calls over overlapping streams from
// deadlocking. Two streams whose keys collide only wait for each other.
//
// The lock and the reads go in one pipelined batch, one round trip. The
// server runs them in order and, at read committed, takes each read's
// snapshot when it starts it, after the locks are held.
func lockStreams(ctx context.Context, tx pgx.Tx, streams ...ports.Stream) ([]int64, error) {
	keys := make([]int64, len(streams))
	for i, s := range streams {
		keys[i] = streamLockKey(s)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var b pgx.Batch
	// A function scan yields the array in order, so the locks are taken in
	// key order within the one statement.
	b.Queue(`SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k`, keys)
	versions := make([]int64, len(streams))
	for i, s := range streams {
		b.Queue(streamVersionSQL, s.Type, s.ID).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&versions[i]); err != nil {
				return fmt.Errorf("read version of %s: %w", s, err)
			}
			return nil
		})
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, fmt.Errorf("lock %d streams: %w", len(streams), err)
	}
	return versions, nil
}

// streamLockKey is the advisory lock key of a stream: the FNV-1a hash of its
// type and id.
func streamLockKey(s ports.Stream) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s.Type))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(s.ID))
	return int64(h.Sum64())
}
