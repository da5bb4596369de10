package sqlitepubsub_test

import (
	"database/sql"
	"fmt"
	"github.com/orderflow/orderflow/internal/testenv"
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
	forwarded := testenv.ReceiveAcked(t, sub, topic, 3)
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
	for _, id := range testenv.ReceiveAcked(t, sub2, topic, 2) {
		for _, old := range forwarded {
			if id == old {
				t.Fatalf("message %s delivered again after cleanup", id)
			}
		}
	}
}

func waitAckedOffset(t *testing.T, db *sql.DB, group, topic string, n int) {
	t.Helper()
	testenv.WaitCount(t, "messages the group acked", n, func() (acked int, err error) {
		err = db.QueryRowContext(t.Context(), `SELECT count(*) FROM pubsub_messages m JOIN pubsub_offsets o
			ON o.topic = m.topic AND o.consumer_group = ? WHERE m.topic = ? AND m."offset" <= o.acked_offset`,
			group, topic).Scan(&acked)
		return acked, err
	})
}
