-- Checkout saga state: one row per order, rewritten at each step with a
-- version check. steps and compensations are the step log (JSON arrays of
-- {step, status, at, detail}). deadline_at is the durable timer: the saga's
-- scanner polls for unfinished checkouts past it.

-- +goose Up
CREATE TABLE checkouts (
    order_id         text        PRIMARY KEY,
    state            text        NOT NULL,
    reason           text        NOT NULL DEFAULT '',
    authorization_id text        NOT NULL DEFAULT '',
    steps            jsonb       NOT NULL DEFAULT '[]',
    compensations    jsonb       NOT NULL DEFAULT '[]',
    started_at       timestamptz NOT NULL,
    deadline_at      timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    version          bigint      NOT NULL CHECK (version >= 1)
);

CREATE INDEX checkouts_state_deadline_idx ON checkouts (state, deadline_at);

-- +goose Down
DROP TABLE checkouts;
