-- The router's retry queue: a message a handler failed with a transient
-- error is set aside here, acknowledged on its topic so the messages behind
-- it flow on, and delivered to that handler again when due, with its own
-- backoff; after the last attempt it moves to poison_messages. token names
-- the claim of the worker that holds it; a claim ends at due_at (unix
-- milliseconds, the clock of the inbox's expiries).

-- +goose Up
CREATE TABLE retry_messages (
    id              TEXT    PRIMARY KEY,
    message_id      TEXT    NOT NULL,
    topic           TEXT    NOT NULL,
    handler         TEXT    NOT NULL,
    payload         BLOB    NOT NULL,
    metadata        TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    last_error      TEXT    NOT NULL,
    first_failed_at TEXT    NOT NULL,
    due_at          INTEGER NOT NULL,
    token           TEXT    NOT NULL DEFAULT '',
    UNIQUE (handler, message_id)
) WITHOUT ROWID;
CREATE INDEX retry_messages_due ON retry_messages (handler, due_at);

-- +goose Down
DROP TABLE retry_messages;
