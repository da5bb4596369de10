// Package sqlitepubsub is a Watermill Publisher and Subscriber over one SQLite
// database file: the broker of the embedded mode, where the event store, the
// read models and the messages share a file and no server runs.
//
// Messages are rows of one append-only table, numbered by an autoincrement
// offset. SQLite has a single writer, so offsets are assigned in commit order
// and a reader that resumes after the last offset it acknowledged never skips
// a message that commits later. Each consumer group keeps, per topic, the last
// acknowledged offset and a lease naming the one subscriber allowed to deliver
// that topic's messages to the group (see Subscriber).
//
// The Publisher writes through an Executor, so a message published on a
// *sql.Tx is delivered if and only if that transaction commits: this is the
// transactional outbox of the SQLite event store.
package sqlitepubsub

import (
	"context"
	"database/sql"
	"fmt"
)

const (
	messagesTable = "pubsub_messages"
	offsetsTable  = "pubsub_offsets"
)

// schema is idempotent. created_at is informational (RFC 3339, UTC).
// lease_until is in Unix milliseconds; 0 with a NULL owner means free.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS ` + messagesTable + ` (
		"offset"   INTEGER PRIMARY KEY AUTOINCREMENT,
		topic      TEXT NOT NULL,
		uuid       TEXT NOT NULL,
		payload    BLOB NOT NULL,
		metadata   TEXT NOT NULL,
		created_at TEXT NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS ` + messagesTable + `_topic_offset
		ON ` + messagesTable + ` (topic, "offset")`,
	`CREATE TABLE IF NOT EXISTS ` + offsetsTable + ` (
		consumer_group TEXT NOT NULL,
		topic          TEXT NOT NULL,
		acked_offset   INTEGER NOT NULL DEFAULT 0,
		lease_owner    TEXT,
		lease_until    INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (consumer_group, topic)
	) WITHOUT ROWID`,
}

// InitializeSchema creates the messages and offsets tables if they do not
// exist. It is safe to call concurrently and repeatedly, from several
// processes sharing the file: the statements run in one transaction.
func InitializeSchema(ctx context.Context, db *sql.DB) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitepubsub: begin schema transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, stmt := range schema {
		if _, err = tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlitepubsub: create schema: %w", err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlitepubsub: commit schema: %w", err)
	}
	return nil
}
