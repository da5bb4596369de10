package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// cleanupEvery is how often an inbox or idempotency store deletes its
// expired rows, piggybacking on a call.
const cleanupEvery = time.Minute

// Inbox is the consumers' deduplication store: table inbox, keyed by
// (handler, message_id). Expiries follow the dialect's clock (the server's
// on Postgres). Expired rows are deleted at most once a minute, by
// whichever Claim comes first.
type Inbox struct {
	db          DB
	lastCleanup atomic.Int64
}

// NewInbox returns an inbox on db.
func NewInbox(db DB) *Inbox { return &Inbox{db: db} }

// Claim implements ports.DedupStore with one upsert that only takes over an
// expired row, so concurrent claims cannot both win (Postgres locks the
// row; SQLite serialises writers). The row's token is the new owner's.
func (s *Inbox) Claim(ctx context.Context, k ports.DedupKey, lease time.Duration) (ports.ClaimResult, error) {
	if dueForCleanup(&s.lastCleanup) {
		_, _ = s.DeleteExpired(ctx) // best effort: the next window tries again
	}
	d := s.db.Dialect
	token := uuid.NewString()
	var taken int
	err := s.db.QueryRow(ctx, `
		INSERT INTO inbox (handler, message_id, done, token, expires_at) VALUES (?, ?, ?, ?, `+d.after+`)
		ON CONFLICT (handler, message_id) DO UPDATE
			SET done = excluded.done, token = excluded.token, expires_at = excluded.expires_at
			WHERE inbox.expires_at < `+d.now+`
		RETURNING 1`, k.Handler, k.MessageID, false, token, d.expiry(lease)).Scan(&taken)
	if err == nil {
		return ports.ClaimResult{State: ports.ClaimAcquired, Token: token}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return ports.ClaimResult{}, unavailable(err, "inbox claim %s/%s", k.Handler, k.MessageID)
	}
	var done bool
	err = s.db.QueryRow(ctx, `SELECT done FROM inbox WHERE handler = ? AND message_id = ?`,
		k.Handler, k.MessageID).Scan(&done)
	switch {
	case errors.Is(err, sql.ErrNoRows): // released meanwhile: someone else holds or held it
		return ports.ClaimResult{State: ports.ClaimInFlight}, nil
	case err != nil:
		return ports.ClaimResult{}, unavailable(err, "inbox read %s/%s", k.Handler, k.MessageID)
	case done:
		return ports.ClaimResult{State: ports.ClaimDone}, nil
	default:
		return ports.ClaimResult{State: ports.ClaimInFlight}, nil
	}
}

// Renew implements ports.DedupStore.
func (s *Inbox) Renew(ctx context.Context, k ports.DedupKey, token string, lease time.Duration) error {
	d := s.db.Dialect
	n, err := s.db.Exec(ctx, `
		UPDATE inbox SET expires_at = `+d.after+`
		WHERE handler = ? AND message_id = ? AND token = ? AND done = ?`,
		d.expiry(lease), k.Handler, k.MessageID, token, false)
	if err != nil {
		return unavailable(err, "inbox renew %s/%s", k.Handler, k.MessageID)
	}
	if n == 0 {
		return fmt.Errorf("inbox renew %s/%s: %w", k.Handler, k.MessageID, ports.ErrClaimLost)
	}
	return nil
}

// Complete implements ports.DedupStore. A done mark is no longer a claim:
// completing it again reports ErrClaimLost, as on Redis.
func (s *Inbox) Complete(ctx context.Context, k ports.DedupKey, token string, retention time.Duration) error {
	d := s.db.Dialect
	n, err := s.db.Exec(ctx, `
		UPDATE inbox SET done = ?, expires_at = `+d.after+`
		WHERE handler = ? AND message_id = ? AND token = ? AND done = ?`,
		true, d.expiry(retention), k.Handler, k.MessageID, token, false)
	if err != nil {
		return unavailable(err, "inbox complete %s/%s", k.Handler, k.MessageID)
	}
	if n == 0 {
		return fmt.Errorf("inbox complete %s/%s: %w", k.Handler, k.MessageID, ports.ErrClaimLost)
	}
	return nil
}

// Release implements ports.DedupStore; a done mark is never released.
func (s *Inbox) Release(ctx context.Context, k ports.DedupKey, token string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM inbox WHERE handler = ? AND message_id = ? AND token = ? AND done = ?`,
		k.Handler, k.MessageID, token, false)
	if err != nil {
		return unavailable(err, "inbox release %s/%s", k.Handler, k.MessageID)
	}
	return nil
}

// DeleteExpired deletes the rows past their retention and reports how many.
func (s *Inbox) DeleteExpired(ctx context.Context) (int64, error) {
	n, err := s.db.Exec(ctx, `DELETE FROM inbox WHERE expires_at < `+s.db.Dialect.now)
	if err != nil {
		return 0, fmt.Errorf("inbox cleanup: %w", err)
	}
	return n, nil
}

// dueForCleanup reports, to exactly one caller per cleanupEvery, that it is
// time to clean up.
func dueForCleanup(last *atomic.Int64) bool {
	now := time.Now().UnixNano()
	prev := last.Load()
	return now-prev >= int64(cleanupEvery) && last.CompareAndSwap(prev, now)
}
