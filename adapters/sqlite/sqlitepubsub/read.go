package sqlitepubsub

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Row is one stored message.
type Row struct {
	Offset    int64
	UUID      string
	Payload   []byte
	Metadata  string // JSON object
	CreatedAt time.Time
}

// ReadTopic calls fn with each message of topic after offset `after`, in
// offset order, up to the last one stored when it began, outside any
// consumer group (it moves no offset). It stops at fn's first error.
func ReadTopic(ctx context.Context, db *sql.DB, topic string, after int64, fn func(Row) error) error {
	var last int64
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max("offset"), 0) FROM `+messagesTable+` WHERE topic = ?`,
		topic).Scan(&last); err != nil {
		return fmt.Errorf("sqlitepubsub: read %s: %w", topic, err)
	}
	for after < last {
		batch, err := readRows(ctx, db, topic, after, last)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, r := range batch {
			if err := fn(r); err != nil {
				return err
			}
			after = r.Offset
		}
	}
	return nil
}

// readRows reads one batch and closes its rows before returning, so fn
// never runs while a connection is held.
func readRows(ctx context.Context, db *sql.DB, topic string, after, last int64) ([]Row, error) {
	rows, err := db.QueryContext(ctx, `SELECT "offset", uuid, payload, metadata, created_at FROM `+messagesTable+`
		WHERE topic = ? AND "offset" > ? AND "offset" <= ? ORDER BY "offset" LIMIT 500`, topic, after, last)
	if err != nil {
		return nil, fmt.Errorf("sqlitepubsub: read %s: %w", topic, err)
	}
	defer rows.Close()
	var batch []Row
	for rows.Next() {
		var (
			r       Row
			created string
		)
		if err := rows.Scan(&r.Offset, &r.UUID, &r.Payload, &r.Metadata, &created); err != nil {
			return nil, fmt.Errorf("sqlitepubsub: read %s: %w", topic, err)
		}
		if r.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
			return nil, fmt.Errorf("sqlitepubsub: read %s offset %d: created_at %q: %w", topic, r.Offset, created, err)
		}
		batch = append(batch, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitepubsub: read %s: %w", topic, err)
	}
	return batch, nil
}
