-- Reliability tables: the consumers' inbox (deduplication by handler and
-- message id), HTTP idempotency keys, and the poison queue.

-- +goose Up
CREATE TABLE inbox (
    handler     text        NOT NULL,
    message_id  text        NOT NULL,
    done        boolean     NOT NULL DEFAULT false,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (handler, message_id)
);
CREATE INDEX inbox_expires_idx ON inbox (expires_at);

CREATE TABLE idempotency_keys (
    key          text        PRIMARY KEY,
    fingerprint  text        NOT NULL,
    status       integer,
    header       jsonb,
    body         bytea,
    locked_until timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

CREATE TABLE poison_messages (
    id              text        PRIMARY KEY,
    message_id      text        NOT NULL,
    topic           text        NOT NULL,
    handler         text        NOT NULL,
    reason          text        NOT NULL,
    payload         bytea       NOT NULL,
    metadata        jsonb       NOT NULL,
    first_failed_at timestamptz NOT NULL,
    poisoned_at     timestamptz NOT NULL
);

-- +goose Down
DROP TABLE poison_messages;
DROP TABLE idempotency_keys;
DROP TABLE inbox;
