package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

var _ ports.DedupStore = (*Inbox)(nil)

// cleanupEvery is how often an inbox or idempotency store deletes its
// expired rows, piggybacking on a call.
const cleanupEvery = time.Minute

// Inbox is the consumers' deduplication store in the embedded database:
// table inbox, keyed by (handler, message_id), expiry in unix milliseconds
// of this machine's clock. Expired rows are deleted at most once a minute.
type Inbox struct {
	db          *sql.DB
	lastCleanup atomic.Int64
}

// NewInbox returns an inbox on db, opened by Open. It panics on a nil db.
func NewInbox(db *sql.DB) *Inbox {
	if db == nil {
		panic("sqlite.NewInbox: nil db")
	}
	return &Inbox{db: db}
}

func nowMillis() int64 { return time.Now().UnixMilli() }

func unavailable(err error, format string, args ...any) error {
	return apperr.Wrap(apperr.Unavailable, err, format, args...)
}

// Claim implements ports.DedupStore with one upsert that only takes over an
// expired row; SQLite serialises writers, so concurrent claims cannot both win.
func (s *Inbox) Claim(ctx context.Context, k ports.DedupKey, lease time.Duration) (ports.Claim, error) {
	now := nowMillis()
	if dueForCleanup(&s.lastCleanup) {
		_, _ = s.db.ExecContext(ctx, `DELETE FROM inbox WHERE expires_at < ?`, now)
	}
	var taken int
	err := s.db.QueryRowContext(ctx, `
		INSERT INTO inbox (handler, message_id, done, expires_at) VALUES (?, ?, 0, ?)
		ON CONFLICT (handler, message_id) DO UPDATE SET done = 0, expires_at = excluded.expires_at
			WHERE inbox.expires_at < ?
		RETURNING 1`, k.Handler, k.MessageID, now+lease.Milliseconds(), now).Scan(&taken)
	if err == nil {
		return ports.ClaimAcquired, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, unavailable(err, "inbox claim %s/%s", k.Handler, k.MessageID)
	}
	var done bool
	err = s.db.QueryRowContext(ctx, `SELECT done FROM inbox WHERE handler = ? AND message_id = ?`,
		k.Handler, k.MessageID).Scan(&done)
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO inbox (handler, message_id, done, expires_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (handler, message_id) DO UPDATE SET done = 1, expires_at = excluded.expires_at`,
		k.Handler, k.MessageID, nowMillis()+retention.Milliseconds())
	if err != nil {
		return unavailable(err, "inbox complete %s/%s", k.Handler, k.MessageID)
	}
	return nil
}

// Release implements ports.DedupStore; a done mark is never released.
func (s *Inbox) Release(ctx context.Context, k ports.DedupKey) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM inbox WHERE handler = ? AND message_id = ? AND done = 0`,
		k.Handler, k.MessageID); err != nil {
		return unavailable(err, "inbox release %s/%s", k.Handler, k.MessageID)
	}
	return nil
}

// DeleteExpired deletes the rows past their retention and reports how many.
func (s *Inbox) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM inbox WHERE expires_at < ?`, nowMillis())
	if err != nil {
		return 0, fmt.Errorf("inbox cleanup: %w", err)
	}
	return res.RowsAffected()
}

// dueForCleanup reports, to exactly one caller per cleanupEvery, that it is
// time to clean up.
func dueForCleanup(last *atomic.Int64) bool {
	now := time.Now().UnixNano()
	prev := last.Load()
	return now-prev >= int64(cleanupEvery) && last.CompareAndSwap(prev, now)
}
