package paymentsandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/ports"
)

// NewPostgres returns a sandbox whose state lives in pool's database, in
// the tables of migration 00012_payment_sandbox (in the pool's current
// schema). It panics on a nil pool.
func NewPostgres(pool *pgxpool.Pool, cfg Config) *Gateway {
	if pool == nil {
		panic("paymentsandbox: nil pool")
	}
	return newGateway(cfg, postgresStore{pool: pool})
}

type postgresStore struct{ pool *pgxpool.Pool }

// authorize: the INSERT waits for a concurrent one of the same key to
// commit and then does nothing, so the SELECT that follows always finds the
// one row of the key.
func (s postgresStore) authorize(ctx context.Context, a authRecord) (authRecord, error) {
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO payment_sandbox_authorizations (idempotency_key, token, amount, currency,
			authorization_id, decline_code, state, ready_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $7, $8, $9, $9)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		a.key, a.token, a.amount, a.currency, a.id, a.declineCode, a.initialState(), a.readyAt, a.createdAt); err != nil {
		return authRecord{}, fmt.Errorf("paymentsandbox: authorize %q: %w", a.key, err)
	}
	stored := authRecord{key: a.key}
	err := s.pool.QueryRow(ctx, `
		SELECT token, amount, currency, COALESCE(authorization_id, ''), decline_code, ready_at, created_at
		FROM payment_sandbox_authorizations WHERE idempotency_key = $1`, a.key).Scan(
		&stored.token, &stored.amount, &stored.currency, &stored.id, &stored.declineCode, &stored.readyAt, &stored.createdAt)
	if err != nil {
		return authRecord{}, fmt.Errorf("paymentsandbox: read authorization %q: %w", a.key, err)
	}
	return stored, nil
}

// transition locks the authorization's row (FOR UPDATE), so operations on
// one authorization run one after the other; the operation key is read
// again under the lock, because a concurrent call with the same key may
// have committed while this one waited.
func (s postgresStore) transition(ctx context.Context, op opRecord, decide func(string) (string, string)) (opRecord, error) {
	var done opRecord
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var seen bool
		var err error
		if done, seen, err = pgOperation(ctx, tx, op.key); err != nil || seen {
			return err
		}
		var state string
		err = tx.QueryRow(ctx, `
			SELECT state FROM payment_sandbox_authorizations
			WHERE authorization_id = $1 AND ready_at <= $2 FOR UPDATE`, op.authorizationID, op.at).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return ports.ErrUnknownAuthorization
		}
		if err != nil {
			return err
		}
		if done, seen, err = pgOperation(ctx, tx, op.key); err != nil || seen {
			return err
		}
		next, refusal := decide(state)
		done = op.withOutcome(refusal)
		if next != state {
			if _, err := tx.Exec(ctx, `
				UPDATE payment_sandbox_authorizations SET state = $1, updated_at = $2
				WHERE authorization_id = $3`, next, op.at, op.authorizationID); err != nil {
				return err
			}
		}
		if op.key == "" {
			return nil
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO payment_sandbox_operations (idempotency_key, operation, authorization_id,
				error_code, error_message, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING`,
			done.key, done.operation, done.authorizationID, done.errorCode, done.errorMessage, done.at)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("key %q was just used for another authorization: %w", op.key, ErrIdempotencyKeyReused)
		}
		return nil
	})
	if err != nil {
		return opRecord{}, fmt.Errorf("paymentsandbox: %s %s: %w", op.operation, op.authorizationID, err)
	}
	return done, nil
}

// pgOperation returns the operation stored under key, if any.
func pgOperation(ctx context.Context, tx pgx.Tx, key string) (opRecord, bool, error) {
	if key == "" {
		return opRecord{}, false, nil
	}
	op := opRecord{key: key}
	err := tx.QueryRow(ctx, `
		SELECT operation, authorization_id, error_code, error_message, created_at
		FROM payment_sandbox_operations WHERE idempotency_key = $1`, key).Scan(
		&op.operation, &op.authorizationID, &op.errorCode, &op.errorMessage, &op.at)
	if errors.Is(err, pgx.ErrNoRows) {
		return opRecord{}, false, nil
	}
	if err != nil {
		return opRecord{}, false, err
	}
	return op, true, nil
}

func (s postgresStore) state(ctx context.Context, id string, now time.Time) (string, error) {
	var state string
	err := s.pool.QueryRow(ctx, `
		SELECT state FROM payment_sandbox_authorizations
		WHERE authorization_id = $1 AND ready_at <= $2`, id, now).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("paymentsandbox: state of %s: %w", id, ports.ErrUnknownAuthorization)
	}
	if err != nil {
		return "", fmt.Errorf("paymentsandbox: state of %s: %w", id, err)
	}
	return state, nil
}
