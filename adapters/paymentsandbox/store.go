package paymentsandbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/internal/sqlstore"
	"github.com/orderflow/orderflow/ports"
)

// NewPostgres returns a sandbox whose state lives in pool's database, in
// the tables of migration 00012_payment_sandbox (in the pool's current
// schema). It panics on a nil pool.
func NewPostgres(pool *pgxpool.Pool, cfg Config) *Gateway {
	return newGateway(cfg, sqlStore{db: sqlstore.Postgres(pool)})
}

// NewSQLite returns a sandbox whose state lives in db, an embedded
// database opened by adapters/sqlite.Open (which applies migration
// 00012_payment_sandbox and opens transactions with BEGIN IMMEDIATE, so
// that they take the write lock first and writers queue in the busy
// handler). Processes sharing the file share the sandbox. It panics on a
// nil db.
func NewSQLite(db *sql.DB, cfg Config) *Gateway {
	return newGateway(cfg, sqlStore{db: sqlstore.SQLite(db)})
}

// sqlStore keeps the sandbox in its two tables, on Postgres (timestamptz)
// or SQLite (unix milliseconds).
type sqlStore struct{ db sqlstore.DB }

// authorize: on Postgres the INSERT waits for a concurrent one of the same
// key to commit and then does nothing (SQLite serialises writers), so the
// SELECT that follows always finds the one row of the key.
func (s sqlStore) authorize(ctx context.Context, a authRecord) (authRecord, error) {
	d := s.db.Dialect
	// The first request inserts and returns its row in one statement; a
	// repeated key inserts nothing and reads the row the first one stored.
	const columns = `token, amount, currency, COALESCE(authorization_id, ''), decline_code, ready_at, created_at`
	stored := authRecord{key: a.key}
	scan := func(row sqlstore.Row) error {
		return row.Scan(&stored.token, &stored.amount, &stored.currency, &stored.id, &stored.declineCode,
			sqlstore.ScanTime(&stored.readyAt), sqlstore.ScanTime(&stored.createdAt))
	}
	err := scan(s.db.QueryRow(ctx, `
		INSERT INTO payment_sandbox_authorizations (idempotency_key, token, amount, currency,
			authorization_id, decline_code, state, ready_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, NULLIF(?, ''), ?, ?, ?, ?, ?)
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING `+columns,
		a.key, a.token, a.amount, a.currency, a.id, a.declineCode, a.initialState(),
		d.TimeMillis(a.readyAt), d.TimeMillis(a.createdAt), d.TimeMillis(a.createdAt)))
	if errors.Is(err, sql.ErrNoRows) {
		err = scan(s.db.QueryRow(ctx, `SELECT `+columns+` FROM payment_sandbox_authorizations WHERE idempotency_key = ?`, a.key))
	}
	if err != nil {
		return authRecord{}, fmt.Errorf("paymentsandbox: authorize %q: %w", a.key, err)
	}
	return stored, nil
}

// transition runs in one transaction that locks the authorization's row
// (FOR UPDATE on Postgres; on SQLite the transaction holds the database's
// write lock from BEGIN), so operations on one authorization run one after
// the other. The operation key is read again under the lock, because a
// concurrent call with the same key may have committed while this one
// waited.
func (s sqlStore) transition(ctx context.Context, op opRecord, decide func(string) (string, string)) (opRecord, error) {
	var done opRecord
	err := s.db.InTx(ctx, func(tx sqlstore.DB) error {
		d := tx.Dialect
		var seen bool
		var err error
		if done, seen, err = operation(ctx, tx, op.key); err != nil || seen {
			return err
		}
		var state string
		err = tx.QueryRow(ctx, `
			SELECT state FROM payment_sandbox_authorizations
			WHERE authorization_id = ? AND ready_at <= ?`+d.ForUpdate(),
			op.authorizationID, d.TimeMillis(op.at)).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return ports.ErrUnknownAuthorization
		}
		if err != nil {
			return err
		}
		if done, seen, err = operation(ctx, tx, op.key); err != nil || seen {
			return err
		}
		next, refusal := decide(state)
		done = op.withOutcome(refusal)
		if next != state {
			if _, err := tx.Exec(ctx, `
				UPDATE payment_sandbox_authorizations SET state = ?, updated_at = ?
				WHERE authorization_id = ?`, next, d.TimeMillis(op.at), op.authorizationID); err != nil {
				return err
			}
		}
		if op.key == "" {
			return nil
		}
		n, err := tx.Exec(ctx, `
			INSERT INTO payment_sandbox_operations (idempotency_key, operation, authorization_id,
				error_code, error_message, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
			done.key, done.operation, done.authorizationID, done.errorCode, done.errorMessage, d.TimeMillis(done.at))
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("key %q was just used for another authorization: %w", op.key, ErrIdempotencyKeyReused)
		}
		return nil
	})
	if err != nil {
		return opRecord{}, fmt.Errorf("paymentsandbox: %s %s: %w", op.operation, op.authorizationID, err)
	}
	return done, nil
}

// operation returns the operation stored under key, if any.
func operation(ctx context.Context, tx sqlstore.DB, key string) (opRecord, bool, error) {
	if key == "" {
		return opRecord{}, false, nil
	}
	op := opRecord{key: key}
	err := tx.QueryRow(ctx, `
		SELECT operation, authorization_id, error_code, error_message, created_at
		FROM payment_sandbox_operations WHERE idempotency_key = ?`, key).Scan(
		&op.operation, &op.authorizationID, &op.errorCode, &op.errorMessage, sqlstore.ScanTime(&op.at))
	if errors.Is(err, sql.ErrNoRows) {
		return opRecord{}, false, nil
	}
	if err != nil {
		return opRecord{}, false, err
	}
	return op, true, nil
}

func (s sqlStore) state(ctx context.Context, id string, now time.Time) (string, error) {
	var state string
	err := s.db.QueryRow(ctx, `
		SELECT state FROM payment_sandbox_authorizations
		WHERE authorization_id = ? AND ready_at <= ?`, id, s.db.Dialect.TimeMillis(now)).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("paymentsandbox: state of %s: %w", id, ports.ErrUnknownAuthorization)
	}
	if err != nil {
		return "", fmt.Errorf("paymentsandbox: state of %s: %w", id, err)
	}
	return state, nil
}
