-- The event store: one append-only table for every stream.
--
-- position       the store-wide sequence (Position.Prepare), handed out at
--                insert time, so it can commit out of order across
--                transactions.
-- transaction_id the inserting transaction (Position.Commit). Readers order
--                by (transaction_id, position) and only read rows whose
--                transaction_id < pg_snapshot_xmin(pg_current_snapshot()):
--                every transaction that could still add a row before them has
--                ended, so a reader resuming after its last position never
--                skips a row that commits late.
-- data           json, not jsonb: the payload is stored byte for byte as the
--                application encoded it (jsonb would reorder keys and drop
--                whitespace), and is still checked to be JSON.

-- +goose Up
CREATE TABLE events (
    position       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_type    text        NOT NULL,
    stream_id      text        NOT NULL,
    version        bigint      NOT NULL CHECK (version >= 1),
    event_id       uuid        NOT NULL,
    event_type     text        NOT NULL,
    data           json        NOT NULL,
    correlation_id text        NOT NULL DEFAULT '',
    causation_id   text        NOT NULL DEFAULT '',
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    -- Optimistic concurrency: two appends at the same version cannot both commit.
    CONSTRAINT events_stream_version_key UNIQUE (stream_type, stream_id, version)
);

-- ReadAll's order and its resume condition.
CREATE INDEX events_transaction_position_idx ON events (transaction_id, position);

-- +goose StatementBegin
CREATE FUNCTION events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd

-- Statement-level, so an UPDATE or DELETE matching no row is refused too.
CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- +goose Down
DROP TABLE events;
DROP FUNCTION events_append_only();
