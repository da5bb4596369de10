package sqlitepubsub_test

import (
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
	"github.com/orderflow/orderflow/internal/testenv"
)

// TestOldestUnacked: the age of the oldest message the group has not
// acked; 0 once it acked everything.
func TestOldestUnacked(t *testing.T) {
	const topic, group = "outbox", "forwarder"
	db := openDB(t)
	pub, sub := newPubSub(t, db, group)
	age := func() time.Duration {
		t.Helper()
		d, err := sqlitepubsub.OldestUnacked(t.Context(), db, topic, group)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	publish := func() {
		t.Helper()
		if err := pub.Publish(topic, message.NewMessage(watermill.NewUUID(), []byte("x"))); err != nil {
			t.Fatal(err)
		}
	}
	publish()
	testenv.ReceiveAcked(t, sub, topic, 1)
	waitAckedOffset(t, db, group, topic, 1)
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if d := age(); d != 0 {
		t.Fatalf("age %v with every message acked, want 0", d)
	}
	publish()
	time.Sleep(20 * time.Millisecond) // the message must have an age, not a synchronisation
	if d := age(); d <= 0 || d > time.Minute {
		t.Fatalf("age %v of an unacked message, want (0, 1m]", d)
	}
}
