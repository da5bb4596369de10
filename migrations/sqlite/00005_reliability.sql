-- Reliability tables: the consumers' inbox (deduplication by handler and
-- message id), HTTP idempotency keys, and the poison queue. Times are unix
-- milliseconds (expiry) or fixed-width UTC text (display).

-- +goose Up
CREATE TABLE inbox (
    handler     TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    done        INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (handler, message_id)
) WITHOUT ROWID;
CREATE INDEX inbox_expires ON inbox (expires_at);

CREATE TABLE idempotency_keys (
    key          TEXT    PRIMARY KEY,
    fingerprint  TEXT    NOT NULL,
    status       INTEGER,
    header       TEXT,
    body         BLOB,
    locked_until INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

CREATE TABLE poison_messages (
    id              TEXT PRIMARY KEY,
    message_id      TEXT NOT NULL,
    topic           TEXT NOT NULL,
    handler         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    payload         BLOB NOT NULL,
    metadata        TEXT NOT NULL,
    first_failed_at TEXT NOT NULL,
    poisoned_at     TEXT NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE poison_messages;
DROP TABLE idempotency_keys;
DROP TABLE inbox;
