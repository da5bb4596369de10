package sql

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
)

// replayBatch is how many rows one query of a SQL replay source reads.
const replayBatch = 500

// PostgresReplaySource reads the watermill-sql message tables of the
// Postgres broker directly, in offset order.
type PostgresReplaySource struct{ Pool *pgxpool.Pool }

// Read implements broker.ReplaySource.
func (s PostgresReplaySource) Read(ctx context.Context, topic string, from broker.ReplayFrom, fn func(broker.StoredMessage) error) error {
	table := wsql.DefaultPostgreSQLSchema{}.MessagesTable(topic)
	var exists bool
	if err := s.Pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil {
		return fmt.Errorf("replay %s: %w", topic, err)
	}
	if !exists {
		return nil // nothing was ever published to it
	}
	var last int64
	if err := s.Pool.QueryRow(ctx, `SELECT coalesce(max("offset"), 0) FROM `+table).Scan(&last); err != nil {
		return fmt.Errorf("replay %s: %w", topic, err)
	}
	after := from.Offset
	for after < last {
		rows, err := s.Pool.Query(ctx, `SELECT "offset", uuid, payload, metadata, created_at FROM `+table+`
			WHERE "offset" > $1 AND "offset" <= $2
			  AND created_at >= ($3::timestamptz AT TIME ZONE current_setting('TimeZone'))
			ORDER BY "offset" LIMIT $4`,
			after, last, from.Since.UTC(), replayBatch)
		if err != nil {
			return fmt.Errorf("replay %s: %w", topic, err)
		}
		var batch []broker.StoredMessage
		for rows.Next() {
			var (
				m                 broker.StoredMessage
				uuid              string
				payload, metadata []byte
			)
			if err := rows.Scan(&m.Offset, &uuid, &payload, &metadata, &m.CreatedAt); err != nil {
				rows.Close()
				return fmt.Errorf("replay %s: %w", topic, err)
			}
			if m.Message, err = storedToMessage(uuid, payload, metadata); err != nil {
				rows.Close()
				return fmt.Errorf("replay %s offset %d: %w", topic, m.Offset, err)
			}
			batch = append(batch, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("replay %s: %w", topic, err)
		}
		if len(batch) == 0 {
			return nil
		}
		for _, m := range batch {
			if err := fn(m); err != nil {
				return err
			}
			after = m.Offset
		}
	}
	return nil
}

// SQLiteReplaySource reads the embedded broker's messages table directly.
type SQLiteReplaySource struct{ DB *stdsql.DB }

var (
	_ broker.ReplaySource = PostgresReplaySource{}
	_ broker.ReplaySource = SQLiteReplaySource{}
)

// Read implements broker.ReplaySource.
func (s SQLiteReplaySource) Read(ctx context.Context, topic string, from broker.ReplayFrom, fn func(broker.StoredMessage) error) error {
	return sqlitepubsub.ReadTopic(ctx, s.DB, topic, from.Offset, func(r sqlitepubsub.Row) error {
		if r.CreatedAt.Before(from.Since) {
			return nil
		}
		msg, err := storedToMessage(r.UUID, r.Payload, []byte(r.Metadata))
		if err != nil {
			return fmt.Errorf("replay %s offset %d: %w", topic, r.Offset, err)
		}
		return fn(broker.StoredMessage{Partition: -1, Offset: r.Offset, CreatedAt: r.CreatedAt, Message: msg})
	})
}

func storedToMessage(uuid string, payload, metadata []byte) (*message.Message, error) {
	msg := message.NewMessage(uuid, payload)
	if len(metadata) > 0 {
		if err := json.Unmarshal(metadata, &msg.Metadata); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
	}
	if msg.Metadata == nil {
		msg.Metadata = message.Metadata{}
	}
	return msg, nil
}
