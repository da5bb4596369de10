-- The event store: one append-only table. position is the store-wide
-- sequence; SQLite has one writer at a time, so positions are assigned in
-- commit order and ReadAll never sees a gap fill in later.
-- Times are UTC text of fixed width (2006-01-02T15:04:05.000000Z), so
-- they sort as they compare.

-- +goose Up
CREATE TABLE events (
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_type    TEXT    NOT NULL,
    stream_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    event_id       TEXT    NOT NULL UNIQUE,
    event_type     TEXT    NOT NULL,
    data           TEXT    NOT NULL,
    correlation_id TEXT    NOT NULL,
    causation_id   TEXT    NOT NULL,
    occurred_at    TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    UNIQUE (stream_type, stream_id, version)
);

-- +goose StatementBegin
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE is forbidden');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE is forbidden');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER events_no_delete;
DROP TRIGGER events_no_update;
DROP TABLE events;
