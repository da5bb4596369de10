package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/orderflow/orderflow/ports"
)

var _ ports.IdempotencyStore = (*IdempotencyStore)(nil)

// IdempotencyStore keeps HTTP idempotency keys in table idempotency_keys;
// times are unix milliseconds of this machine's clock.
type IdempotencyStore struct {
	db          *sql.DB
	lastCleanup atomic.Int64
}

// NewIdempotencyStore returns a store on db, opened by Open. It panics on a
// nil db.
func NewIdempotencyStore(db *sql.DB) *IdempotencyStore {
	if db == nil {
		panic("sqlite.NewIdempotencyStore: nil db")
	}
	return &IdempotencyStore{db: db}
}

// Reserve implements ports.IdempotencyStore: one upsert that only replaces
// an expired row or an in-flight row whose lock ran out.
func (s *IdempotencyStore) Reserve(ctx context.Context, key, fingerprint string, lock, ttl time.Duration) (ports.IdempotencyRecord, bool, error) {
	for range 3 {
		now := nowMillis()
		if dueForCleanup(&s.lastCleanup) {
			_, _ = s.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE expires_at < ?`, now)
		}
		var one int
		err := s.db.QueryRowContext(ctx, `
			INSERT INTO idempotency_keys (key, fingerprint, locked_until, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE
				SET fingerprint = excluded.fingerprint, status = NULL, header = NULL, body = NULL,
				    locked_until = excluded.locked_until, expires_at = excluded.expires_at
				WHERE idempotency_keys.expires_at < ?
				   OR (idempotency_keys.status IS NULL AND idempotency_keys.locked_until < ?)
			RETURNING 1`, key, fingerprint, now+lock.Milliseconds(), now+ttl.Milliseconds(), now, now).Scan(&one)
		if err == nil {
			return ports.IdempotencyRecord{Key: key, Fingerprint: fingerprint}, true, nil
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
	var status sql.NullInt64
	var header sql.NullString
	var body []byte
	err := s.db.QueryRowContext(ctx, `SELECT fingerprint, status, header, body FROM idempotency_keys WHERE key = ?`,
		key).Scan(&rec.Fingerprint, &status, &header, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, err
	}
	if err != nil {
		return rec, unavailable(err, "read idempotency key")
	}
	if status.Valid {
		resp := &ports.StoredResponse{Status: int(status.Int64), Body: body}
		if header.Valid && header.String != "" {
			if err := json.Unmarshal([]byte(header.String), &resp.Header); err != nil {
				return rec, fmt.Errorf("idempotency key %s: header: %w", key, err)
			}
		}
		rec.Response = resp
	}
	return rec, nil
}

// Complete implements ports.IdempotencyStore.
func (s *IdempotencyStore) Complete(ctx context.Context, key string, resp ports.StoredResponse) error {
	header, err := json.Marshal(resp.Header)
	if err != nil {
		return fmt.Errorf("idempotency key %s: %w", key, err)
	}
	body := resp.Body
	if body == nil {
		body = []byte{}
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE idempotency_keys SET status = ?, header = ?, body = ? WHERE key = ?`,
		resp.Status, string(header), body, key); err != nil {
		return unavailable(err, "complete idempotency key")
	}
	return nil
}

// Release implements ports.IdempotencyStore; a completed key is kept.
func (s *IdempotencyStore) Release(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE key = ? AND status IS NULL`, key); err != nil {
		return unavailable(err, "release idempotency key")
	}
	return nil
}
