-- The order_summary read model. created_at and updated_at are UTC text of
-- fixed width (2006-01-02T15:04:05.000000Z): listing pages by the keyset
-- (created_at, order_id), newest first, relies on text order being time
-- order. items is a JSON array.

-- +goose Up
CREATE TABLE order_summary (
    order_id            TEXT    PRIMARY KEY,
    customer_id         TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    items               TEXT    NOT NULL CHECK (json_valid(items)),
    total               INTEGER NOT NULL,
    currency            TEXT    NOT NULL,
    version             INTEGER NOT NULL CHECK (version >= 1),
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    cancellation_reason TEXT    NOT NULL DEFAULT '',
    carrier             TEXT    NOT NULL DEFAULT '',
    tracking_number     TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE INDEX order_summary_created ON order_summary (created_at DESC, order_id DESC);
CREATE INDEX order_summary_customer_created ON order_summary (customer_id, created_at DESC, order_id DESC);
CREATE INDEX order_summary_status_created ON order_summary (status, created_at DESC, order_id DESC);

-- +goose Down
DROP TABLE order_summary;
