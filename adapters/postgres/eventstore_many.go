package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/orderflow/orderflow/internal/appendmany"
	"github.com/orderflow/orderflow/internal/sqlstore"
	"github.com/orderflow/orderflow/ports"
)

// appendMany is AppendMany without its span: one transaction for every stream.
// It first takes every stream's lock, in a fixed order (see lockStreams), so
// two calls over overlapping streams wait for each other instead of
// deadlocking, and each stream's versions, AnyVersion ones included, follow
// ReadAll's order. A version clash on any stream is a *ports.ConcurrencyError
// for it, and the whole transaction rolls back. AnyVersion parts retry a lost
// race a few times, like Append.
func (s *EventStore) appendMany(ctx context.Context, appends []ports.StreamAppend) error {
	sorted, err := appendmany.Prepare(appends)
	if err != nil {
		return err
	}
	streams := make([]ports.Stream, len(sorted))
	for i, a := range sorted {
		streams[i] = a.Stream
	}
	for attempt := 1; ; attempt++ {
		var failed ports.StreamAppend
		err := s.inTx(ctx, fmt.Sprintf("%d streams", len(sorted)), func(tx pgx.Tx) error {
			versions, err := lockAndReadVersions(ctx, tx, streams)
			if err != nil {
				return fmt.Errorf("append to %d streams: %w", len(streams), err)
			}
			for i, a := range sorted {
				failed = a
				if _, err := s.appendInTx(ctx, tx, a.Stream, a.ExpectedVersion, versions[i], a.Events); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil || !isVersionClash(err) {
			return sqlstore.PostgresError(err)
		}
		_, inUnit := sqlstore.PgxTx(ctx, s.pool)
		if attempt < anyVersionAttempts && appendmany.AnyVersionOnly(sorted) && !inUnit {
			continue
		}
		actual, verr := s.streamVersion(ctx, s.pool, failed.Stream)
		if verr != nil {
			return fmt.Errorf("append to %s: read version after conflict: %w", failed.Stream, errors.Join(err, verr))
		}
		return &ports.ConcurrencyError{Stream: failed.Stream, Expected: failed.ExpectedVersion, Actual: actual}
	}
}
