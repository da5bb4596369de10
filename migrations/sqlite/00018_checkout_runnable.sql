-- Started checkouts wait to be run (saga.RunReady): CheckoutStore.Claim takes
-- the checkouts of one state whose next_attempt_at has come, earliest first.

-- +goose Up
CREATE INDEX checkouts_state_next_attempt ON checkouts (state, next_attempt_at);

-- +goose Down
DROP INDEX checkouts_state_next_attempt;
