-- The payment sandbox's state (adapters/paymentsandbox), kept here so that
-- it is durable and shared like a real provider's: every process on this
-- file sees the same authorizations.
--
-- payment_sandbox_authorizations: one row per Authorize idempotency key,
-- with the request (to reject the key's reuse for another request) and its
-- outcome, decided when the row is inserted: an authorization id and a
-- state, or a decline code. The provider answers, and the authorization
-- exists for capture and void, only from ready_at on.
--
-- payment_sandbox_operations: the outcome of each Capture or Void under its
-- idempotency key (error '' when it succeeded).
--
-- Times are unix milliseconds of the writing machine's clock.

-- +goose Up
CREATE TABLE payment_sandbox_authorizations (
    idempotency_key  TEXT    PRIMARY KEY,
    token            TEXT    NOT NULL,
    amount           INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    authorization_id TEXT    UNIQUE,
    decline_code     TEXT    NOT NULL DEFAULT '',
    state            TEXT    NOT NULL
        CHECK (state IN ('declined', 'authorized', 'captured', 'voided')),
    ready_at         INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    CHECK ((state = 'declined') = (authorization_id IS NULL))
) WITHOUT ROWID;

CREATE TABLE payment_sandbox_operations (
    idempotency_key  TEXT    PRIMARY KEY,
    operation        TEXT    NOT NULL CHECK (operation IN ('capture', 'void')),
    authorization_id TEXT    NOT NULL
        REFERENCES payment_sandbox_authorizations (authorization_id),
    error_code       TEXT    NOT NULL DEFAULT '',
    error_message    TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE payment_sandbox_operations;
DROP TABLE payment_sandbox_authorizations;
