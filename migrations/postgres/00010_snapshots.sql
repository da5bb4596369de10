-- Aggregate snapshots: at most one per stream, the latest. A cache of the
-- events, never the truth: deleting every row only makes loading slower.
-- data is the aggregate's own encoding, named by schema_version.

-- +goose Up
CREATE TABLE snapshots (
    stream_type    text        NOT NULL,
    stream_id      text        NOT NULL,
    version        bigint      NOT NULL CHECK (version >= 1),
    schema_version integer     NOT NULL,
    data           bytea       NOT NULL,
    taken_at       timestamptz NOT NULL,
    PRIMARY KEY (stream_type, stream_id)
);

-- +goose Down
DROP TABLE snapshots;
