package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/orderflow/orderflow/internal/sqlstore"
	"github.com/orderflow/orderflow/ports"
)

// lockStreams takes a transaction-scoped advisory lock per stream, in
// ascending key order, and must run before tx writes anything.
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
func lockStreams(ctx context.Context, tx pgx.Tx, streams ...ports.Stream) error {
	if _, err := tx.Exec(ctx, lockSQL, lockKeys(streams)); err != nil {
		return fmt.Errorf("lock %d streams: %w", len(streams), err)
	}
	return nil
}

// lockSQL takes the locks of an array of keys. A function scan yields the
// array in order, so the locks are taken in key order within the one
// statement.
const lockSQL = `SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k`

// lockKeys are the streams' lock keys, ascending, each once.
func lockKeys(streams []ports.Stream) []int64 {
	keys := make([]int64, len(streams))
	for i, s := range streams {
		keys[i] = streamLockKey(s)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// lockAndReadVersions takes the streams' locks (as lockStreams) and then
// reads each stream's version, in one round trip: the statements are
// pipelined (a pgx batch) but each runs after the one before it, so the
// versions are read, with a snapshot of their own, once the locks are held,
// and see every append committed before.
func lockAndReadVersions(ctx context.Context, tx pgx.Tx, streams []ports.Stream) ([]int64, error) {
	b := &pgx.Batch{}
	b.Queue(lockSQL, lockKeys(streams))
	for _, s := range streams {
		b.Queue(versionSQL, s.Type, s.ID)
	}
	br := tx.SendBatch(ctx, b)
	versions := make([]int64, len(streams))
	err := func() error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("lock %d streams: %w", len(streams), err)
		}
		for i, s := range streams {
			if err := br.QueryRow().Scan(&versions[i]); err != nil {
				return fmt.Errorf("read version of %s: %w", s, err)
			}
		}
		return nil
	}()
	return versions, errors.Join(err, br.Close())
}

// lockInUnit takes the streams' locks in the unit of work of ctx
// (ports.StreamLocker), where they last until it ends; outside one it does
// nothing. Appends in the unit take them again (advisory locks stack).
func (s *EventStore) lockInUnit(ctx context.Context, streams ...ports.Stream) error {
	tx, ok := sqlstore.PgxTx(ctx, s.pool)
	if !ok || len(streams) == 0 {
		return nil
	}
	return lockStreams(ctx, tx, streams...)
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
