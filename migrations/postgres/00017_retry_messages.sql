-- The router's retry queue: a message a handler failed with a transient
-- error is set aside here, acknowledged on its topic so the messages behind
-- it flow on, and delivered to that handler again when due, with its own
-- backoff; after the last attempt it moves to poison_messages. token names
-- the claim of the worker that holds it; a claim ends at due_at.

-- +goose Up
CREATE TABLE retry_messages (
    id              text        PRIMARY KEY,
    message_id      text        NOT NULL,
    topic           text        NOT NULL,
    handler         text        NOT NULL,
    payload         bytea       NOT NULL,
    metadata        jsonb       NOT NULL,
    attempts        integer     NOT NULL,
    last_error      text        NOT NULL,
    first_failed_at timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    token           text        NOT NULL DEFAULT '',
    UNIQUE (handler, message_id)
);
CREATE INDEX retry_messages_due_idx ON retry_messages (handler, due_at);

-- +goose Down
DROP TABLE retry_messages;
