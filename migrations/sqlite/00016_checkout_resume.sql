-- What resuming a parked checkout restores: the state it was parked in and
-- the reason it had then (parking replaces the reason with why it was
-- parked). Empty on every other checkout. Checkouts parked before this
-- migration carry '' and resume in the state their park step names.

-- +goose Up
ALTER TABLE checkouts ADD COLUMN resume_state TEXT NOT NULL DEFAULT '';
ALTER TABLE checkouts ADD COLUMN resume_reason TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE checkouts DROP COLUMN resume_reason;
ALTER TABLE checkouts DROP COLUMN resume_state;
