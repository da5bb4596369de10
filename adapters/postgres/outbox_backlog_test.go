package postgres_test

import (
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/internal/testenv"
)

// TestOldestUnforwardedOutbox: the age of the oldest row the group has not
// acked; 0 once it acked everything.
func TestOldestUnforwardedOutbox(t *testing.T) {
	store, pool := newEventStore(t)
	topic := postgres.DefaultOutboxTopic
	age := func() time.Duration {
		t.Helper()
		d, err := postgres.OldestUnforwardedOutbox(t.Context(), pool, topic, cleanupGroup)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	sub := outboxSubscriber(t, pool) // registers the group
	appendOrders(t, store, 3)
	testenv.ReceiveAcked(t, sub, topic, 3)
	waitAcked(t, pool, 3)
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if d := age(); d != 0 {
		t.Fatalf("age %v with every row forwarded, want 0", d)
	}
	appendOrders(t, store, 2)
	time.Sleep(20 * time.Millisecond) // the rows must have an age, not a synchronisation
	if d := age(); d <= 0 || d > time.Minute {
		t.Fatalf("age %v of a row just written and not forwarded, want (0, 1m]", d)
	}
}
