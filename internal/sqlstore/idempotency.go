package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// IdempotencyStore keeps HTTP idempotency keys in table idempotency_keys.
// Expiries follow the dialect's clock (the server's on Postgres); expired
// rows are deleted at most once a minute, by whichever Reserve comes first.
type IdempotencyStore struct {
	db          DB
	lastCleanup atomic.Int64
}

// NewIdempotencyStore returns a store on db.
func NewIdempotencyStore(db DB) *IdempotencyStore { return &IdempotencyStore{db: db} }

// Reserve implements ports.IdempotencyStore: one upsert that only replaces
// an expired row or an in-flight row whose lock ran out. The row's token is
// the new owner's.
func (s *IdempotencyStore) Reserve(ctx context.Context, key, fingerprint string, lock, ttl time.Duration) (ports.IdempotencyRecord, bool, error) {
	d := s.db.Dialect
	token := uuid.NewString()
	if dueForCleanup(&s.lastCleanup) {
		_, _ = s.db.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at < `+d.now)
	}
	for range 3 {
		var one int
		err := s.db.QueryRow(ctx, `
			INSERT INTO idempotency_keys (key, fingerprint, token, locked_until, expires_at)
			VALUES (?, ?, ?, `+d.after+`, `+d.after+`)
			ON CONFLICT (key) DO UPDATE
				SET fingerprint = excluded.fingerprint, token = excluded.token, status = NULL, header = NULL, body = NULL,
				    locked_until = excluded.locked_until, expires_at = excluded.expires_at
				WHERE idempotency_keys.expires_at < `+d.now+`
				   OR (idempotency_keys.status IS NULL AND idempotency_keys.locked_until < `+d.now+`)
			RETURNING 1`, key, fingerprint, token, d.expiry(lock), d.expiry(ttl)).Scan(&one)
		if err == nil {
			return ports.IdempotencyRecord{Key: key, Fingerprint: fingerprint, Token: token}, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return ports.IdempotencyRecord{}, false, unavailable(err, "reserve idempotency key")
		}
		rec, err := s.get(ctx, key)
		if errors.Is(err, sql.ErrNoRows) {
			continue // released between the two statements: try again
		}
		return rec, false, err
	}
	return ports.IdempotencyRecord{}, false, unavailable(errors.New("key keeps changing"), "reserve idempotency key")
}

func (s *IdempotencyStore) get(ctx context.Context, key string) (ports.IdempotencyRecord, error) {
	rec := ports.IdempotencyRecord{Key: key}
	var status *int
	var header, body []byte
	err := s.db.QueryRow(ctx, `SELECT fingerprint, status, header, body FROM idempotency_keys WHERE key = ?`,
		key).Scan(&rec.Fingerprint, &status, &header, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, err
	}
	if err != nil {
		return rec, unavailable(err, "read idempotency key")
	}
	if status != nil {
		resp := &ports.StoredResponse{Status: *status, Body: body}
		if len(header) > 0 {
			if err := json.Unmarshal(header, &resp.Header); err != nil {
				return rec, fmt.Errorf("idempotency key %s: header: %w", key, err)
			}
		}
		rec.Response = resp
	}
	return rec, nil
}

// Complete implements ports.IdempotencyStore. Only an in-flight row the
// token owns is completed: a completed row is no reservation any more.
func (s *IdempotencyStore) Complete(ctx context.Context, key, token string, resp ports.StoredResponse) error {
	header, err := json.Marshal(resp.Header)
	if err != nil {
		return fmt.Errorf("idempotency key %s: %w", key, err)
	}
	body := resp.Body
	if body == nil {
		body = []byte{}
	}
	n, err := s.db.Exec(ctx, `
		UPDATE idempotency_keys SET status = ?, header = ?, body = ?
		WHERE key = ? AND token = ? AND status IS NULL`,
		resp.Status, s.db.Dialect.json(header), body, key, token)
	if err != nil {
		return unavailable(err, "complete idempotency key")
	}
	if n == 0 {
		return fmt.Errorf("complete idempotency key %s: %w", key, ports.ErrIdempotencyKeyLost)
	}
	return nil
}

// Release implements ports.IdempotencyStore; a completed key is kept.
func (s *IdempotencyStore) Release(ctx context.Context, key, token string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM idempotency_keys WHERE key = ? AND token = ? AND status IS NULL`,
		key, token); err != nil {
		return unavailable(err, "release idempotency key")
	}
	return nil
}
