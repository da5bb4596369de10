package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

var _ ports.DedupStore = (*Inbox)(nil)

// cleanupEvery is how often an inbox or idempotency store deletes its
// expired rows, piggybacking on a call.
const cleanupEvery = time.Minute

// Inbox is the consumers' deduplication store on PostgreSQL: table inbox,
// keyed by (handler, message_id). Times are the server's clock. Expired rows
// are deleted at most once a minute, by whichever Claim comes first.
type Inbox struct {
	pool        *pgxpool.Pool
	lastCleanup atomic.Int64
}

// NewInbox returns an inbox on pool, which must be migrated by
// migrations/postgres. It panics on a nil pool.
func NewInbox(pool *pgxpool.Pool) *Inbox {
	if pool == nil {
		panic("postgres.NewInbox: nil pool")
	}
	return &Inbox{pool: pool}
}

func unavailable(err error, format string, args ...any) error {
	return apperr.Wrap(apperr.Unavailable, err, format, args...)
}

// Claim implements ports.DedupStore with one upsert that only takes over an
// expired row, so concurrent claims cannot both win.
func (s *Inbox) Claim(ctx context.Context, k ports.DedupKey, lease time.Duration) (ports.Claim, error) {
	s.maybeCleanup(ctx)
	var taken bool
	err := s.pool.QueryRow(ctx, `
		INSERT INTO inbox (handler, message_id, done, expires_at)
		VALUES ($1, $2, false, clock_timestamp() + $3 * interval '1 microsecond')
		ON CONFLICT (handler, message_id) DO UPDATE
			SET done = false, expires_at = EXCLUDED.expires_at
			WHERE inbox.expires_at < clock_timestamp()
		RETURNING true`, k.Handler, k.MessageID, lease.Microseconds()).Scan(&taken)
	if err == nil {
		return ports.ClaimAcquired, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, unavailable(err, "inbox claim %s/%s", k.Handler, k.MessageID)
	}
	var done bool
	err = s.pool.QueryRow(ctx, `SELECT done FROM inbox WHERE handler = $1 AND message_id = $2`,
		k.Handler, k.MessageID).Scan(&done)
	switch {
	case errors.Is(err, pgx.ErrNoRows): // released meanwhile: someone else holds or held it
		return ports.ClaimInFlight, nil
	case err != nil:
		return 0, unavailable(err, "inbox read %s/%s", k.Handler, k.MessageID)
	case done:
		return ports.ClaimDone, nil
	default:
		return ports.ClaimInFlight, nil
	}
}

// Complete implements ports.DedupStore.
func (s *Inbox) Complete(ctx context.Context, k ports.DedupKey, retention time.Duration) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO inbox (handler, message_id, done, expires_at)
		VALUES ($1, $2, true, clock_timestamp() + $3 * interval '1 microsecond')
		ON CONFLICT (handler, message_id) DO UPDATE SET done = true, expires_at = EXCLUDED.expires_at`,
		k.Handler, k.MessageID, retention.Microseconds())
	if err != nil {
		return unavailable(err, "inbox complete %s/%s", k.Handler, k.MessageID)
	}
	return nil
}

// Release implements ports.DedupStore; a done mark is never released.
func (s *Inbox) Release(ctx context.Context, k ports.DedupKey) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM inbox WHERE handler = $1 AND message_id = $2 AND NOT done`,
		k.Handler, k.MessageID)
	if err != nil {
		return unavailable(err, "inbox release %s/%s", k.Handler, k.MessageID)
	}
	return nil
}

// DeleteExpired deletes the rows past their retention and reports how many.
func (s *Inbox) DeleteExpired(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM inbox WHERE expires_at < clock_timestamp()`)
	if err != nil {
		return 0, fmt.Errorf("inbox cleanup: %w", err)
	}
	return tag.RowsAffected(), nil
}

func (s *Inbox) maybeCleanup(ctx context.Context) {
	if dueForCleanup(&s.lastCleanup) {
		_, _ = s.DeleteExpired(ctx) // best effort: the next window tries again
	}
}

// dueForCleanup reports, to exactly one caller per cleanupEvery, that it is
// time to clean up.
func dueForCleanup(last *atomic.Int64) bool {
	now := time.Now().UnixNano()
	prev := last.Load()
	return now-prev >= int64(cleanupEvery) && last.CompareAndSwap(prev, now)
}
