-- The payment sandbox's state (adapters/paymentsandbox), kept here so that
-- it is durable and shared like a real provider's: every process on this
-- database sees the same authorizations.
--
-- payment_sandbox_authorizations: one row per Authorize idempotency key,
-- with the request (to reject the key's reuse for another request) and its
-- outcome, decided when the row is inserted: an authorization id and a
-- state, or a decline code. The provider answers, and the authorization
-- exists for capture and void, only from ready_at on.
--
-- payment_sandbox_operations: the outcome of each Capture or Void under its
-- idempotency key (error '' when it succeeded).

-- +goose Up
CREATE TABLE payment_sandbox_authorizations (
    idempotency_key  text        PRIMARY KEY,
    token            text        NOT NULL,
    amount           bigint      NOT NULL,
    currency         text        NOT NULL,
    authorization_id text        UNIQUE,
    decline_code     text        NOT NULL DEFAULT '',
    state            text        NOT NULL
        CHECK (state IN ('declined', 'authorized', 'captured', 'voided')),
    ready_at         timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CHECK ((state = 'declined') = (authorization_id IS NULL))
);

CREATE TABLE payment_sandbox_operations (
    idempotency_key  text        PRIMARY KEY,
    operation        text        NOT NULL CHECK (operation IN ('capture', 'void')),
    authorization_id text        NOT NULL
        REFERENCES payment_sandbox_authorizations (authorization_id),
    error_code       text        NOT NULL DEFAULT '',
    error_message    text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL
);

-- +goose Down
DROP TABLE payment_sandbox_operations;
DROP TABLE payment_sandbox_authorizations;
