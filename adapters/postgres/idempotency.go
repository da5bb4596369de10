package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/ports"
)

var _ ports.IdempotencyStore = (*IdempotencyStore)(nil)

// IdempotencyStore keeps HTTP idempotency keys in table idempotency_keys.
// Times are the server's clock; expired rows are deleted at most once a
// minute, by whichever Reserve comes first.
type IdempotencyStore struct {
	pool        *pgxpool.Pool
	lastCleanup atomic.Int64
}

// NewIdempotencyStore returns a store on pool, which must be migrated by
// migrations/postgres. It panics on a nil pool.
func NewIdempotencyStore(pool *pgxpool.Pool) *IdempotencyStore {
	if pool == nil {
		panic("postgres.NewIdempotencyStore: nil pool")
	}
	return &IdempotencyStore{pool: pool}
}

// Reserve implements ports.IdempotencyStore: one upsert that only replaces
// an expired row or an in-flight row whose lock ran out.
func (s *IdempotencyStore) Reserve(ctx context.Context, key, fingerprint string, lock, ttl time.Duration) (ports.IdempotencyRecord, bool, error) {
	if dueForCleanup(&s.lastCleanup) {
		_, _ = s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at < clock_timestamp()`)
	}
	for range 3 {
		var k string
		err := s.pool.QueryRow(ctx, `
			INSERT INTO idempotency_keys (key, fingerprint, locked_until, expires_at)
			VALUES ($1, $2, clock_timestamp() + $3 * interval '1 microsecond',
			        clock_timestamp() + $4 * interval '1 microsecond')
			ON CONFLICT (key) DO UPDATE
				SET fingerprint = EXCLUDED.fingerprint, status = NULL, header = NULL, body = NULL,
				    locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at
				WHERE idempotency_keys.expires_at < clock_timestamp()
				   OR (idempotency_keys.status IS NULL AND idempotency_keys.locked_until < clock_timestamp())
			RETURNING key`, key, fingerprint, lock.Microseconds(), ttl.Microseconds()).Scan(&k)
		if err == nil {
			return ports.IdempotencyRecord{Key: key, Fingerprint: fingerprint}, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return ports.IdempotencyRecord{}, false, unavailable(err, "reserve idempotency key")
		}
		rec, err := s.get(ctx, key)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // released between the two statements: try again
		}
		return rec, false, err
	}
	return ports.IdempotencyRecord{}, false, unavailable(errors.New("key keeps changing"), "reserve idempotency key")
}

func (s *IdempotencyStore) get(ctx context.Context, key string) (ports.IdempotencyRecord, error) {
	rec := ports.IdempotencyRecord{Key: key}
	var status *int
	var header []byte
	var body []byte
	err := s.pool.QueryRow(ctx, `SELECT fingerprint, status, header, body FROM idempotency_keys WHERE key = $1`,
		key).Scan(&rec.Fingerprint, &status, &header, &body)
	if errors.Is(err, pgx.ErrNoRows) {
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
	if _, err := s.pool.Exec(ctx, `UPDATE idempotency_keys SET status = $2, header = $3, body = $4 WHERE key = $1`,
		key, resp.Status, header, body); err != nil {
		return unavailable(err, "complete idempotency key")
	}
	return nil
}

// Release implements ports.IdempotencyStore; a completed key is kept.
func (s *IdempotencyStore) Release(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE key = $1 AND status IS NULL`, key); err != nil {
		return unavailable(err, "release idempotency key")
	}
	return nil
}
