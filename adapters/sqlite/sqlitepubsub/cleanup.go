package sqlitepubsub

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// DeleteAcked deletes at most limit messages of topic that consumer group
// has acknowledged and that were published more than retention ago, oldest
// first, and returns how many it deleted. A message the group has not acked
// is never deleted. Offsets are AUTOINCREMENT, never reused, so deleting
// rows cannot make a subscriber skip or repeat a message. Other groups
// reading the same topic are not consulted: call it for a topic with one
// reader, like the outbox and its forwarder.
func DeleteAcked(ctx context.Context, db *sql.DB, topic, group string, retention time.Duration, limit int) (int64, error) {
	cutoff := time.Now().Add(-retention).UTC()
	// created_at is RFC 3339 text; julianday compares it as a time, not as
	// a string (fractional digits vary in length).
	res, err := db.ExecContext(ctx, `
		DELETE FROM `+messagesTable+` WHERE "offset" IN (
			SELECT m."offset" FROM `+messagesTable+` m
			JOIN `+offsetsTable+` o ON o.topic = m.topic AND o.consumer_group = ?
			WHERE m.topic = ? AND m."offset" <= o.acked_offset
			  AND julianday(m.created_at) < julianday(?)
			ORDER BY m."offset" LIMIT ?)`,
		group, topic, cutoff.Format(time.RFC3339Nano), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlitepubsub: delete acked messages of %s: %w", topic, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitepubsub: delete acked messages of %s: %w", topic, err)
	}
	return n, nil
}

// TrimAcked deletes at most limit messages, of every topic but except,
// that every consumer group of their topic has acknowledged and that were
// published more than retention ago, oldest first, and returns how many it
// deleted. A group counts from the moment it subscribed (its offsets row,
// acked 0, exists from then), so a group that has read nothing yet holds
// back its whole topic. A topic no group has subscribed to is trimmed by age
// alone: nobody can be waiting for its messages, and a group that comes
// later starts after what the retention kept. It is the broker's retention;
// the outbox, which has a cleaner of its own, is passed in except.
func TrimAcked(ctx context.Context, db *sql.DB, retention time.Duration, limit int, except ...string) (int64, error) {
	cutoff := time.Now().Add(-retention).UTC()
	args := []any{cutoff.Format(time.RFC3339Nano)}
	notIn := ""
	for i, topic := range except {
		if i > 0 {
			notIn += ", "
		}
		notIn += "?"
		args = append(args, topic)
	}
	if notIn != "" {
		notIn = ` AND m.topic NOT IN (` + notIn + `)`
	}
	res, err := db.ExecContext(ctx, `
		DELETE FROM `+messagesTable+` WHERE "offset" IN (
			SELECT m."offset" FROM `+messagesTable+` m
			WHERE julianday(m.created_at) < julianday(?)`+notIn+`
			  AND NOT EXISTS (SELECT 1 FROM `+offsetsTable+` o WHERE o.topic = m.topic AND o.acked_offset < m."offset")
			ORDER BY m."offset" LIMIT ?)`,
		append(args, limit)...)
	if err != nil {
		return 0, fmt.Errorf("sqlitepubsub: trim acked messages: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitepubsub: trim acked messages: %w", err)
	}
	return n, nil
}
