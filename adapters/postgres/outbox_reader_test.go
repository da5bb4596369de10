package postgres_test

import (
	"context"
	"errors"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/internal/testenv"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/postgres"
)

// TestOutboxReaderAcksOnlyWhatWasForwarded: a failed forward acknowledges
// nothing and the same rows come back; a successful one moves the group's
// offset in watermill-sql's offsets table, which the outbox cleanup reads.
func TestOutboxReaderAcksOnlyWhatWasForwarded(t *testing.T) {
	store, pool := newEventStore(t)
	topic := postgres.DefaultOutboxTopic
	appendOrders(t, store, 3)
	waitVisible(t, pool)
	r, err := postgres.NewOutboxReader(t.Context(), pool, topic, cleanupGroup)
	if err != nil {
		t.Fatal(err)
	}
	var seen [][]string
	forward := func(fail error) func(context.Context, []*message.Message) error {
		return func(_ context.Context, rows []*message.Message) error {
			var ids []string
			for _, m := range rows {
				ids = append(ids, m.UUID)
			}
			seen = append(seen, ids)
			return fail
		}
	}
	broken := errors.New("broker down")
	if n, err := r.ForwardBatch(t.Context(), 2, forward(broken)); !errors.Is(err, broken) || n != 0 {
		t.Fatalf("failed forward: %d acked, err %v", n, err)
	}
	if n, err := r.ForwardBatch(t.Context(), 2, forward(nil)); err != nil || n != 2 {
		t.Fatalf("forward: %d acked, err %v; want 2", n, err)
	}
	if len(seen) != 2 || len(seen[0]) != 2 || seen[0][0] != seen[1][0] || seen[0][1] != seen[1][1] {
		t.Fatalf("batches %v: the failed batch must come back whole", seen)
	}
	deleted, err := postgres.DeleteForwardedOutbox(t.Context(), pool, topic, cleanupGroup, 0, 100)
	if err != nil || deleted != 2 {
		t.Fatalf("cleanup after two acked rows deleted %d, err %v", deleted, err)
	}
	if n, err := r.ForwardBatch(t.Context(), 2, forward(nil)); err != nil || n != 1 {
		t.Fatalf("forward the rest: %d acked, err %v; want 1", n, err)
	}
	if n, err := r.ForwardBatch(t.Context(), 2, forward(nil)); err != nil || n != 0 {
		t.Fatalf("drained outbox: %d acked, err %v", n, err)
	}
}

// TestOutboxReaderDeliversRowsWithForeignMetadata: a row whose metadata
// column is not an object of strings is delivered without it, not left to
// stop the outbox.
func TestOutboxReaderDeliversRowsWithForeignMetadata(t *testing.T) {
	store, pool := newEventStore(t)
	topic := postgres.DefaultOutboxTopic
	odd := uuid.NewString()
	if _, err := pool.Exec(t.Context(), `INSERT INTO `+postgres.OutboxSchema.MessagesTable(topic)+
		` (uuid, payload, metadata, transaction_id) VALUES ($1, '{"x":1}', '{"n":1}', pg_current_xact_id())`, odd); err != nil {
		t.Fatal(err)
	}
	appendOrders(t, store, 1)
	waitVisible(t, pool)
	r, err := postgres.NewOutboxReader(t.Context(), pool, topic, cleanupGroup)
	if err != nil {
		t.Fatal(err)
	}
	var got []*message.Message
	n, err := r.ForwardBatch(t.Context(), 10, func(_ context.Context, rows []*message.Message) error {
		got = rows
		return nil
	})
	if err != nil || n != 2 {
		t.Fatalf("forward: %d acked, err %v; want 2", n, err)
	}
	if got[0].UUID != odd || string(got[0].Payload) != `{"x":1}` || len(got[0].Metadata) != 0 {
		t.Fatalf("odd row delivered as %s %s %v", got[0].UUID, got[0].Payload, got[0].Metadata)
	}
}

// waitVisible waits until every transaction that began before now has
// ended, so the rows just appended are visible to the outbox reader: it
// reads only below the oldest running transaction of the whole server, and
// the server is shared with whatever else runs on the machine.
func waitVisible(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	var now uint64
	if err := pool.QueryRow(t.Context(), `SELECT pg_current_xact_id()::text::bigint`).Scan(&now); err != nil {
		t.Fatal(err)
	}
	testenv.WaitCount(t, "the horizon passing the appended rows (1: passed)", 1, func() (int, error) {
		var passed bool
		err := pool.QueryRow(t.Context(), `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint > $1`, now).Scan(&passed)
		if passed {
			return 1, err
		}
		return 0, err
	})
}
