package outbox_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/adapters/broker/brokertest"
	sqlbroker "github.com/orderflow/orderflow/adapters/broker/sql"
	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/outbox"
)

// TestOutboxCleanerWorksInBoundedBatches: one round deletes at most
// BatchSize rows per DELETE and MaxBatches batches; rows the forwarder has
// not acked stay.
func TestCleanerWorksInBoundedBatches(t *testing.T) {
	db := storetest.SQLiteDB(t)
	b, err := sqlbroker.NewSQLite(t.Context(), db, 10*time.Millisecond, logger)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := b.Publisher.Publish(outbox.Topic, message.NewMessage(watermill.NewUUID(), []byte("{}"))); err != nil {
			t.Fatal(err)
		}
	}
	// The forwarder's group acks all five.
	fwd := brokertest.Subscribe(t, b, outbox.ConsumerGroup, outbox.Topic)
	for range 5 {
		brokertest.Receive(t, fwd.C)
	}
	fwd.Close(t)
	if err := b.Publisher.Publish(outbox.Topic, message.NewMessage(watermill.NewUUID(), []byte("{}"))); err != nil {
		t.Fatal(err)
	}

	var deletes []int64
	cleaner, err := outbox.NewCleaner(outbox.CleanerConfig{
		Delete: func(ctx context.Context, retention time.Duration, limit int) (int64, error) {
			n, err := sqlitepubsub.DeleteAcked(ctx, db, outbox.Topic, outbox.ConsumerGroup, retention, limit)
			deletes = append(deletes, n)
			return n, err
		},
		Retention:  time.Nanosecond,
		BatchSize:  2,
		MaxBatches: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The last ack may still be in flight after Close: wait for the group's
	// offset rather than for time.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var acked int64
		if err := db.QueryRowContext(t.Context(), `SELECT acked_offset FROM pubsub_offsets WHERE consumer_group = ? AND topic = ?`,
			outbox.ConsumerGroup, outbox.Topic).Scan(&acked); err != nil {
			t.Fatal(err)
		}
		if acked == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("forwarder acked up to %d, want 5", acked)
		}
		time.Sleep(10 * time.Millisecond)
	}

	for i, want := range []int64{4, 1, 0} {
		n, err := cleaner.CleanUp(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("round %d deleted %d rows, want %d (deletes so far %v)", i, n, want, deletes)
		}
	}
	if want := []int64{2, 2, 1, 0}; !slices.Equal(deletes, want) {
		t.Fatalf("DELETE batches %v, want %v", deletes, want)
	}
	var left int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pubsub_messages`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 1 {
		t.Fatalf("%d rows left, want the 1 unforwarded", left)
	}
}
