package sql

import (
	"context"
	"fmt"
	"slices"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TrimPostgres deletes at most limit messages from the watermill-sql topic
// tables of pool's schema (every topic but except) that every consumer
// group of their topic has acknowledged and that were published more than
// retention ago, oldest first per topic, and returns how many it deleted.
//
// "Acknowledged by every group" follows watermill-sql's own order, as
// postgres.DeleteForwardedOutbox does for the outbox: a group's row in the
// topic's offsets table holds the (transaction id, offset) of the last
// message it acked, and it reads in that order, so a message at or before
// the pair of every group has been passed by all of them. Offsets come from
// a BIGSERIAL and are never reused: deleting rows makes no subscriber skip
// or repeat one.
//
// A topic no group has acked anything of is trimmed by age alone (nobody
// can be waiting for its messages: the inventory events, which no handler
// reads, would otherwise grow forever). watermill-sql records a group at its
// first ack, so a group that subscribes later, or has acked nothing yet,
// starts after what the retention kept (and so does replay-topic); older
// history is in the event store.
func TrimPostgres(ctx context.Context, pool *pgxpool.Pool, retention time.Duration, limit int, except ...string) (int64, error) {
	topics, err := trimmableTopics(ctx, pool)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, topic := range topics {
		if slices.Contains(except, topic.name) || total >= int64(limit) {
			continue
		}
		n, err := trimTopic(ctx, pool, topic, retention, limit-int(total))
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// brokerTopic is a topic of the schema, and whether any group of it has an
// offsets table.
type brokerTopic struct {
	name       string
	hasOffsets bool
}

// trimmableTopics lists the topics of pool's schema: the messages tables,
// each with whether its offsets table exists.
func trimmableTopics(ctx context.Context, pool *pgxpool.Pool) ([]brokerTopic, error) {
	rows, err := pool.Query(ctx, `
		SELECT substr(m.table_name, length('watermill_') + 1),
		       EXISTS (SELECT 1 FROM information_schema.tables o
		               WHERE o.table_schema = current_schema()
		                 AND o.table_name = 'watermill_offsets_' || substr(m.table_name, length('watermill_') + 1))
		FROM information_schema.tables m
		WHERE m.table_schema = current_schema()
		  AND m.table_name LIKE 'watermill\_%' AND m.table_name NOT LIKE 'watermill\_offsets\_%'
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("postgres broker: list topics to trim: %w", err)
	}
	topics, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (t brokerTopic, err error) {
		err = row.Scan(&t.name, &t.hasOffsets)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres broker: list topics to trim: %w", err)
	}
	return topics, nil
}

func trimTopic(ctx context.Context, pool *pgxpool.Pool, topic brokerTopic, retention time.Duration, limit int) (int64, error) {
	messages := wsql.DefaultPostgreSQLSchema{}.MessagesTable(topic.name)
	passedByAll := ""
	if topic.hasOffsets {
		passedByAll = `AND NOT EXISTS (SELECT 1 FROM ` + wsql.DefaultPostgreSQLOffsetsAdapter{}.MessagesOffsetsTable(topic.name) + ` o
			                  WHERE (m.transaction_id, m."offset") > (o.last_processed_transaction_id, o.offset_acked))`
	}
	// created_at is a TIMESTAMP (no time zone) set by CURRENT_TIMESTAMP, so
	// it is compared with LOCALTIMESTAMP, in the database's own clock.
	tag, err := pool.Exec(ctx, `
		WITH doomed AS (
			SELECT m.transaction_id, m."offset" FROM `+messages+` m
			WHERE m.created_at < LOCALTIMESTAMP - make_interval(secs => $1)
			  `+passedByAll+`
			ORDER BY m.transaction_id, m."offset"
			LIMIT $2
		)
		DELETE FROM `+messages+` m USING doomed d
		WHERE m.transaction_id = d.transaction_id AND m."offset" = d."offset"`,
		retention.Seconds(), limit)
	if err != nil {
		return 0, fmt.Errorf("postgres broker: trim %s: %w", topic.name, err)
	}
	return tag.RowsAffected(), nil
}
