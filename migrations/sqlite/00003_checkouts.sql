-- Checkout saga state: one row per order, rewritten at each step with a
-- version check. steps and compensations are the step log (JSON arrays).
-- Times are fixed-width UTC text, so text order is time order for the
-- deadline scan on deadline_at.

-- +goose Up
CREATE TABLE checkouts (
    order_id         TEXT    PRIMARY KEY,
    state            TEXT    NOT NULL,
    reason           TEXT    NOT NULL DEFAULT '',
    authorization_id TEXT    NOT NULL DEFAULT '',
    steps            TEXT    NOT NULL CHECK (json_valid(steps)),
    compensations    TEXT    NOT NULL CHECK (json_valid(compensations)),
    started_at       TEXT    NOT NULL,
    deadline_at      TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    version          INTEGER NOT NULL CHECK (version >= 1)
) WITHOUT ROWID;

CREATE INDEX checkouts_state_deadline ON checkouts (state, deadline_at);

-- +goose Down
DROP TABLE checkouts;
