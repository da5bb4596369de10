package paymentsandbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/orderflow/orderflow/ports"
)

// NewSQLite returns a sandbox whose state lives in db, an embedded
// database opened by adapters/sqlite.Open (which applies migration
// 00012_payment_sandbox and opens transactions with BEGIN IMMEDIATE, so
// that they take the write lock first and writers queue in the busy
// handler). Processes sharing the file share the sandbox. It panics on a
// nil db.
func NewSQLite(db *sql.DB, cfg Config) *Gateway {
	if db == nil {
		panic("paymentsandbox: nil database")
	}
	return newGateway(cfg, sqliteStore{db: db})
}

// sqliteStore keeps times as unix milliseconds.
type sqliteStore struct{ db *sql.DB }

func (s sqliteStore) authorize(ctx context.Context, a authRecord) (authRecord, error) {
	var id sql.NullString
	if a.id != "" {
		id = sql.NullString{String: a.id, Valid: true}
	}
	if _, err := s.db.ExecContext(ctx, `
		INSERT INTO payment_sandbox_authorizations (idempotency_key, token, amount, currency,
			authorization_id, decline_code, state, ready_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		a.key, a.token, a.amount, a.currency, id, a.declineCode, a.initialState(),
		a.readyAt.UnixMilli(), a.createdAt.UnixMilli(), a.createdAt.UnixMilli()); err != nil {
		return authRecord{}, fmt.Errorf("paymentsandbox: authorize %q: %w", a.key, err)
	}
	stored := authRecord{key: a.key}
	var readyAt, createdAt int64
	err := s.db.QueryRowContext(ctx, `
		SELECT token, amount, currency, COALESCE(authorization_id, ''), decline_code, ready_at, created_at
		FROM payment_sandbox_authorizations WHERE idempotency_key = ?`, a.key).Scan(
		&stored.token, &stored.amount, &stored.currency, &stored.id, &stored.declineCode, &readyAt, &createdAt)
	if err != nil {
		return authRecord{}, fmt.Errorf("paymentsandbox: read authorization %q: %w", a.key, err)
	}
	stored.readyAt, stored.createdAt = time.UnixMilli(readyAt), time.UnixMilli(createdAt)
	return stored, nil
}

// transition runs in one IMMEDIATE transaction: it holds the database's
// write lock from the start, so it is alone between its reads and writes.
func (s sqliteStore) transition(ctx context.Context, op opRecord, decide func(string) (string, string)) (opRecord, error) {
	done, err := s.transitionTx(ctx, op, decide)
	if err != nil {
		return opRecord{}, fmt.Errorf("paymentsandbox: %s %s: %w", op.operation, op.authorizationID, err)
	}
	return done, nil
}

func (s sqliteStore) transitionTx(ctx context.Context, op opRecord, decide func(string) (string, string)) (opRecord, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return opRecord{}, err
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	if done, seen, err := sqliteOperation(ctx, tx, op.key); err != nil || seen {
		return done, err
	}
	var state string
	err = tx.QueryRowContext(ctx, `
		SELECT state FROM payment_sandbox_authorizations
		WHERE authorization_id = ? AND ready_at <= ?`, op.authorizationID, op.at.UnixMilli()).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return opRecord{}, ports.ErrUnknownAuthorization
	}
	if err != nil {
		return opRecord{}, err
	}
	next, refusal := decide(state)
	done := op.withOutcome(refusal)
	if next != state {
		if _, err := tx.ExecContext(ctx, `
			UPDATE payment_sandbox_authorizations SET state = ?, updated_at = ?
			WHERE authorization_id = ?`, next, op.at.UnixMilli(), op.authorizationID); err != nil {
			return opRecord{}, err
		}
	}
	if op.key != "" {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO payment_sandbox_operations (idempotency_key, operation, authorization_id,
				error_code, error_message, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`,
			done.key, done.operation, done.authorizationID, done.errorCode, done.errorMessage, done.at.UnixMilli()); err != nil {
			return opRecord{}, err
		}
	}
	return done, tx.Commit()
}

// sqliteOperation returns the operation stored under key, if any.
func sqliteOperation(ctx context.Context, tx *sql.Tx, key string) (opRecord, bool, error) {
	if key == "" {
		return opRecord{}, false, nil
	}
	op := opRecord{key: key}
	var at int64
	err := tx.QueryRowContext(ctx, `
		SELECT operation, authorization_id, error_code, error_message, created_at
		FROM payment_sandbox_operations WHERE idempotency_key = ?`, key).Scan(
		&op.operation, &op.authorizationID, &op.errorCode, &op.errorMessage, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return opRecord{}, false, nil
	}
	if err != nil {
		return opRecord{}, false, err
	}
	op.at = time.UnixMilli(at)
	return op, true, nil
}

func (s sqliteStore) state(ctx context.Context, id string, now time.Time) (string, error) {
	var state string
	err := s.db.QueryRowContext(ctx, `
		SELECT state FROM payment_sandbox_authorizations
		WHERE authorization_id = ? AND ready_at <= ?`, id, now.UnixMilli()).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("paymentsandbox: state of %s: %w", id, ports.ErrUnknownAuthorization)
	}
	if err != nil {
		return "", fmt.Errorf("paymentsandbox: state of %s: %w", id, err)
	}
	return state, nil
}
