package postgres_test

import (
	"github.com/orderflow/orderflow/internal/testenv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/ports"
)

const cleanupGroup = "forwarder-under-test"

// TestDeleteForwardedOutbox: rows are deleted only once the forwarder's
// consumer group acked them and they are older than the retention; rows
// still waiting are kept and are exactly what the group reads next.
func TestDeleteForwardedOutbox(t *testing.T) {
	store, pool := newEventStore(t)
	topic := postgres.DefaultOutboxTopic
	appendOrders(t, store, 3)

	deleteRows := func(retention time.Duration, limit int) int64 {
		t.Helper()
		n, err := postgres.DeleteForwardedOutbox(t.Context(), pool, topic, cleanupGroup, retention, limit)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := deleteRows(0, 100); n != 0 {
		t.Fatalf("deleted %d rows nobody forwarded", n)
	}

	// Forward the three rows: a real watermill-sql subscriber acks them.
	sub := outboxSubscriber(t, pool)
	forwarded := testenv.ReceiveAcked(t, sub, topic, 3)
	waitAcked(t, pool, 3)
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	appendOrders(t, store, 2) // not forwarded

	if n := deleteRows(time.Hour, 100); n != 0 {
		t.Fatalf("deleted %d forwarded rows younger than the retention", n)
	}
	if n := deleteRows(0, 2); n != 2 { // bounded by the limit
		t.Fatalf("first batch deleted %d rows, want 2", n)
	}
	if n := deleteRows(0, 2); n != 1 {
		t.Fatalf("second batch deleted %d rows, want 1", n)
	}
	if n := deleteRows(0, 2); n != 0 {
		t.Fatalf("third batch deleted %d rows, want 0: only 2 unforwarded rows are left", n)
	}
	var left int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM `+postgres.OutboxSchema.MessagesTable(topic)).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 2 {
		t.Fatalf("%d rows left, want the 2 unforwarded", left)
	}

	// The group resumes with exactly the unforwarded rows.
	next := testenv.ReceiveAcked(t, outboxSubscriber(t, pool), topic, 2)
	for _, id := range next {
		for _, old := range forwarded {
			if id == old {
				t.Fatalf("message %s delivered again after cleanup", id)
			}
		}
	}
}

func appendOrders(t *testing.T, store *postgres.EventStore, n int) {
	t.Helper()
	for range n {
		id := uuid.Must(uuid.NewV7()).String()
		_, err := store.Append(t.Context(), ports.Stream{Type: "order", ID: uuid.NewString()}, ports.NoStream, []ports.NewEvent{{
			Type: "order.placed.v1", Data: []byte(`{}`),
			Metadata: ports.EventMetadata{EventID: id, OccurredAt: time.Now()},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func outboxSubscriber(t *testing.T, pool *pgxpool.Pool) *wsql.Subscriber {
	t.Helper()
	sub, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(pool), wsql.SubscriberConfig{
		ConsumerGroup:  cleanupGroup,
		SchemaAdapter:  postgres.OutboxSchema,
		OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{},
		PollInterval:   10 * time.Millisecond,
	}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

// waitAcked waits until the group's stored offset covers n rows.
func waitAcked(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	topic := postgres.DefaultOutboxTopic
	testenv.WaitCount(t, "rows the group acked", n, func() (acked int, err error) {
		err = pool.QueryRow(t.Context(), `
			SELECT count(*) FROM `+postgres.OutboxSchema.MessagesTable(topic)+` m,
			       `+wsql.DefaultPostgreSQLOffsetsAdapter{}.MessagesOffsetsTable(topic)+` o
			WHERE o.consumer_group = $1
			  AND (m.transaction_id, m."offset") <= (o.last_processed_transaction_id, o.offset_acked)`,
			cleanupGroup).Scan(&acked)
		return acked, err
	})
}
