package postgres

import (
	"context"
	"fmt"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DeleteForwardedOutbox deletes at most limit rows of the outbox topic that
// consumer group (the forwarder's) has already acknowledged and that were
// written more than retention ago, oldest first, and returns how many it
// deleted. A row the group has not acked is never deleted, however old.
//
// "Acked" follows watermill-sql's own order: the group's row in the offsets
// table holds the (transaction id, offset) of the last message it acked,
// and it consumes rows in (transaction_id, offset) order, so every row at or
// before that pair has been forwarded. Offsets come from a BIGSERIAL and are
// never reused, so deleting rows cannot make the subscriber skip or repeat.
func DeleteForwardedOutbox(ctx context.Context, pool *pgxpool.Pool, topic, group string, retention time.Duration, limit int) (int64, error) {
	messages := OutboxSchema.MessagesTable(topic)
	offsets := wsql.DefaultPostgreSQLOffsetsAdapter{}.MessagesOffsetsTable(topic)
	// created_at is a TIMESTAMP (no time zone) set by CURRENT_TIMESTAMP, so
	// it is compared with LOCALTIMESTAMP, in the database's own clock.
	tag, err := pool.Exec(ctx, `
		WITH acked AS (
			SELECT last_processed_transaction_id AS tx, offset_acked AS off
			FROM `+offsets+` WHERE consumer_group = $1
		), doomed AS (
			SELECT m.transaction_id, m."offset" FROM `+messages+` m, acked
			WHERE (m.transaction_id, m."offset") <= (acked.tx, acked.off)
			  AND m.created_at < LOCALTIMESTAMP - make_interval(secs => $2)
			ORDER BY m.transaction_id, m."offset"
			LIMIT $3
		)
		DELETE FROM `+messages+` m USING doomed d
		WHERE m.transaction_id = d.transaction_id AND m."offset" = d."offset"`,
		group, retention.Seconds(), limit)
	if err != nil {
		return 0, fmt.Errorf("delete forwarded outbox rows of %s: %w", topic, err)
	}
	return tag.RowsAffected(), nil
}
