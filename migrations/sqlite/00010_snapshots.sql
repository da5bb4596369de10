-- Aggregate snapshots: at most one per stream, the latest. A cache of the
-- events, never the truth: deleting every row only makes loading slower.
-- data is the aggregate's own encoding, named by schema_version.

-- +goose Up
CREATE TABLE snapshots (
    stream_type    TEXT    NOT NULL,
    stream_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    schema_version INTEGER NOT NULL,
    data           BLOB    NOT NULL,
    taken_at       TEXT    NOT NULL,
    PRIMARY KEY (stream_type, stream_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE snapshots;
