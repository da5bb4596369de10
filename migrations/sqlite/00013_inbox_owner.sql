-- The owner of an inbox claim: a token chosen by the claim (a UUID), so that
-- a consumer whose lease ran out, and whose message another consumer took
-- over, can neither release nor complete the new holder's claim
-- (ports.DedupStore). Rows claimed before this migration carry '' and are
-- owned by nobody: their holders' Complete reports the claim lost, and the
-- rows free themselves when their lease runs out.

-- +goose Up
ALTER TABLE inbox ADD COLUMN token TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE inbox DROP COLUMN token;
