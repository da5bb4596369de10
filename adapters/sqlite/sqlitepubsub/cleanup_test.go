package sqlitepubsub_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
)

// TestDeleteAcked: messages are deleted only once the group acked them and
// they are older than the retention; the rest are exactly what the group
// reads next.
func TestDeleteAcked(t *testing.T) {
	const topic, group = "outbox", "forwarder"
	db := openDB(t)
	pub, sub := newPubSub(t, db, group)
	publish := func(n int) {
		t.Helper()
		for i := range n {
			if err := pub.Publish(topic, message.NewMessage(watermill.NewUUID(), fmt.Appendf(nil, "%d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	deleteAcked := func(retention time.Duration, limit int) int64 {
		t.Helper()
		n, err := sqlitepubsub.DeleteAcked(t.Context(), db, topic, group, retention, limit)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	publish(3)
	if n := deleteAcked(0, 100); n != 0 {
		t.Fatalf("deleted %d messages nobody acked", n)
	}
	forwarded := receiveAcked(t, sub, topic, 3)
	waitAckedOffset(t, db, group, topic, 3)
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	publish(2)

	if n := deleteAcked(time.Hour, 100); n != 0 {
		t.Fatalf("deleted %d acked messages younger than the retention", n)
	}
	for i, want := range []int64{2, 1, 0} {
		if n := deleteAcked(0, 2); n != want {
			t.Fatalf("batch %d deleted %d, want %d", i, n, want)
		}
	}
	_, sub2 := newPubSub(t, db, group)
	for _, id := range receiveAcked(t, sub2, topic, 2) {
		for _, old := range forwarded {
			if id == old {
				t.Fatalf("message %s delivered again after cleanup", id)
			}
		}
	}
}

func receiveAcked(t *testing.T, sub message.Subscriber, topic string, n int) []string {
	t.Helper()
	ch, err := sub.Subscribe(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	var ids []string
	for range n {
		select {
		case msg := <-ch:
			ids = append(ids, msg.UUID)
			msg.Ack()
		case <-timeout.C:
			t.Fatalf("received %d of %d messages", len(ids), n)
		}
	}
	return ids
}

func waitAckedOffset(t *testing.T, db *sql.DB, group, topic string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var acked int
		err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pubsub_messages m JOIN pubsub_offsets o
			ON o.topic = m.topic AND o.consumer_group = ? WHERE m.topic = ? AND m."offset" <= o.acked_offset`,
			group, topic).Scan(&acked)
		if err != nil {
			t.Fatal(err)
		}
		if acked == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group acked %d messages, want %d", acked, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
