-- The owner of an Idempotency-Key's reservation: a token chosen by Reserve
-- (a UUID), so that a request whose lock ran out, and whose key another
-- request took over, can neither complete nor release the new holder's
-- reservation (ports.IdempotencyStore), as the inbox's token does
-- (00013_inbox_owner). Rows reserved before this migration carry '' and are
-- owned by nobody: their holders' Complete reports the key lost, and an
-- in-flight row frees itself when its lock runs out.

-- +goose Up
ALTER TABLE idempotency_keys ADD COLUMN token text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN token;
