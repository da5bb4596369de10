-- Notifications sent about orders, one row per causing event (id is the
-- event id, so a redelivered event adds nothing). at is fixed-width UTC text.

-- +goose Up
CREATE TABLE notifications (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT    NOT NULL UNIQUE,
    order_id TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    reason   TEXT    NOT NULL DEFAULT '',
    at       TEXT    NOT NULL
);

CREATE INDEX notifications_order ON notifications (order_id, seq);

-- +goose Down
DROP TABLE notifications;
