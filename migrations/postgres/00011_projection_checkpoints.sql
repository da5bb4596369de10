-- Each projection's checkpoint: the (transaction_id, position) of the last
-- event it applied, the store-wide order of events (ports.Position).

-- +goose Up
CREATE TABLE projection_checkpoints (
    projection     text        PRIMARY KEY,
    transaction_id xid8        NOT NULL,
    position       bigint      NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE projection_checkpoints;
