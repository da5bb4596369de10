package sqlitepubsub

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// OldestUnacked returns how long ago the oldest message of topic that
// consumer group has not acknowledged was published; 0 when the group has
// acked every message (or is not registered on topic).
func OldestUnacked(ctx context.Context, db *sql.DB, topic, group string) (time.Duration, error) {
	// Offsets follow commit order, so the first unacked offset is the
	// oldest; created_at is RFC 3339 text (UTC).
	var created sql.NullString
	err := db.QueryRowContext(ctx, `
		SELECT m.created_at FROM `+messagesTable+` m
		JOIN `+offsetsTable+` o ON o.topic = m.topic AND o.consumer_group = ?
		WHERE m.topic = ? AND m."offset" > o.acked_offset
		ORDER BY m."offset" LIMIT 1`, group, topic).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlitepubsub: oldest unacked message of %s: %w", topic, err)
	}
	at, err := time.Parse(time.RFC3339Nano, created.String)
	if err != nil {
		return 0, fmt.Errorf("sqlitepubsub: oldest unacked message of %s: created_at %q: %w", topic, created.String, err)
	}
	return max(0, time.Since(at)), nil
}
