-- Each projection's checkpoint: the position of the last event it applied
-- (in SQLite a Position's Commit and Prepare are both the position).

-- +goose Up
CREATE TABLE projection_checkpoints (
    projection TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    updated_at TEXT    NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE projection_checkpoints;
