package postgres

import (
	"context"
	"fmt"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/jackc/pgx/v5/pgxpool"
)

// OldestUnforwardedOutbox returns how long ago the oldest row of the outbox
// topic that consumer group (the forwarder's) has not acknowledged was
// written, in the database's own clock; 0 when the group has acked every
// row. It counts committed rows the forwarder cannot see yet too: watermill-
// sql's reader skips rows of transactions newer than the oldest one still
// open in the database, so a long open transaction (of any application)
// stalls the forwarder while this age grows.
func OldestUnforwardedOutbox(ctx context.Context, pool *pgxpool.Pool, topic, group string) (time.Duration, error) {
	messages := OutboxSchema.MessagesTable(topic)
	offsets := wsql.DefaultPostgreSQLOffsetsAdapter{}.MessagesOffsetsTable(topic)
	// created_at is a TIMESTAMP set by CURRENT_TIMESTAMP: compared with
	// LOCALTIMESTAMP, as DeleteForwardedOutbox does.
	var seconds float64
	err := pool.QueryRow(ctx, `
		SELECT COALESCE(EXTRACT(EPOCH FROM LOCALTIMESTAMP - min(m.created_at)), 0)::float8
		FROM `+messages+` m
		JOIN `+offsets+` o ON o.consumer_group = $1
		WHERE (m.transaction_id, m."offset") > (o.last_processed_transaction_id, o.offset_acked)`,
		group).Scan(&seconds)
	if err != nil {
		return 0, fmt.Errorf("oldest unforwarded outbox row of %s: %w", topic, err)
	}
	return time.Duration(max(0, seconds) * float64(time.Second)), nil
}
