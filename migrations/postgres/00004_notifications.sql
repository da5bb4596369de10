-- Notifications sent about orders (confirmed, cancelled, shipped), one row
-- per causing event: id is that event's id, so a redelivered event adds
-- nothing.

-- +goose Up
CREATE TABLE notifications (
    id       text        PRIMARY KEY,
    order_id text        NOT NULL,
    kind     text        NOT NULL,
    reason   text        NOT NULL DEFAULT '',
    at       timestamptz NOT NULL,
    seq      bigint      GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX notifications_order_idx ON notifications (order_id, seq);

-- +goose Down
DROP TABLE notifications;
