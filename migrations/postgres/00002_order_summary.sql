-- The order_summary read model: one row per order, written by the projection
-- with a conditional upsert on version, listed newest first with keyset
-- pagination on (created_at, order_id).

-- +goose Up
CREATE TABLE order_summary (
    order_id            text        PRIMARY KEY,
    customer_id         text        NOT NULL,
    status              text        NOT NULL,
    items               jsonb       NOT NULL DEFAULT '[]',
    total               bigint      NOT NULL,
    currency            text        NOT NULL,
    version             bigint      NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    cancellation_reason text        NOT NULL DEFAULT '',
    carrier             text        NOT NULL DEFAULT '',
    tracking_number     text        NOT NULL DEFAULT ''
);

CREATE INDEX order_summary_created_idx
    ON order_summary (created_at DESC, order_id DESC);
CREATE INDEX order_summary_customer_created_idx
    ON order_summary (customer_id, created_at DESC, order_id DESC);
CREATE INDEX order_summary_status_created_idx
    ON order_summary (status, created_at DESC, order_id DESC);

-- +goose Down
DROP TABLE order_summary;
