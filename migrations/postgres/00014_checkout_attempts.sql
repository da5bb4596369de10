-- The deadline scanner's failed attempts per checkout: attempts counts them
-- since the checkout last moved, next_attempt_at (NULL: at its deadline) is
-- when it may be tried again, with exponential backoff, so that a checkout
-- that keeps failing never holds up the deadlines behind it. The scan orders
-- by the time a checkout is due again.

-- +goose Up
ALTER TABLE checkouts ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE checkouts ADD COLUMN next_attempt_at timestamptz;

-- +goose Down
ALTER TABLE checkouts DROP COLUMN next_attempt_at;
ALTER TABLE checkouts DROP COLUMN attempts;
