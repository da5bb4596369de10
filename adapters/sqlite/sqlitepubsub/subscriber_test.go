package sqlitepubsub_test

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
)

const receiveTimeout = 30 * time.Second

func publish(t *testing.T, exec sqlitepubsub.Executor, topic string, payload string) *message.Message {
	t.Helper()
	pub, err := sqlitepubsub.NewPublisher(exec, sqlitepubsub.PublisherConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := message.NewMessage(watermill.NewUUID(), []byte(payload))
	if err := pub.Publish(topic, msg); err != nil {
		t.Fatal(err)
	}
	return msg
}

func subscribe(t *testing.T, db *sql.DB, group, topic string) <-chan *message.Message {
	t.Helper()
	msgs, err := newSubscriber(t, db, group).Subscribe(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func receive(t *testing.T, msgs <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case msg, ok := <-msgs:
		if !ok {
			t.Fatal("messages channel closed")
		}
		return msg
	case <-time.After(receiveTimeout):
		t.Fatal("no message received")
		return nil
	}
}

// A message published on a transaction is delivered if and only if the
// transaction commits. The marker published afterwards proves, with ordered
// delivery, that nothing from the rolled-back transaction is still to come.
func TestPublishOnTransaction(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	const topic = "tx"

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rolledBack := publish(t, tx, topic, "rolled back")
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	committed := publish(t, tx, topic, "committed")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	marker := publish(t, db, topic, "marker")

	msgs := subscribe(t, db, "g", topic)
	for _, want := range []*message.Message{committed, marker} {
		got := receive(t, msgs)
		got.Ack()
		if got.UUID == rolledBack.UUID {
			t.Fatalf("message %s of a rolled-back transaction was delivered", got.UUID)
		}
		if got.UUID != want.UUID || string(got.Payload) != string(want.Payload) {
			t.Fatalf("got message %s %q, want %s %q", got.UUID, got.Payload, want.UUID, want.Payload)
		}
	}
}

// The subscriber holds no transaction while a message is handled, so a
// handler can write to the same database before it acks.
func TestHandlerWritesBeforeAck(t *testing.T) {
	db := openDB(t)
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE handled (uuid TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	first := publish(t, db, "writes", "1")
	second := publish(t, db, "writes", "2")

	msgs := subscribe(t, db, "g", "writes")
	for _, want := range []*message.Message{first, second} {
		msg := receive(t, msgs)
		if msg.UUID != want.UUID {
			t.Fatalf("got %s, want %s", msg.UUID, want.UUID)
		}
		ctx, cancel := context.WithTimeout(msg.Context(), receiveTimeout)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO handled (uuid) VALUES (?)`, msg.UUID); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		cancel()
		msg.Ack()
	}
}

// Two subscribers of one group, each with its own Subscriber as if in two
// processes, never have a message of the topic in flight at the same time.
// Halfway, the one delivering is closed: the other takes over where the
// group is, and together they deliver every message in order.
func TestCompetingSubscribersTakeTurns(t *testing.T) {
	db := openDB(t)
	const topic, count = "competing", 200
	pub, err := sqlitepubsub.NewPublisher(db, sqlitepubsub.PublisherConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for range count {
		msg := message.NewMessage(watermill.NewUUID(), nil)
		want = append(want, msg.UUID)
		if err := pub.Publish(topic, msg); err != nil {
			t.Fatal(err)
		}
	}

	type delivery struct {
		sub int
		id  string
	}
	var inFlight atomic.Int32
	received := make(chan delivery)
	subs := make([]*sqlitepubsub.Subscriber, 2)
	for i := range subs {
		cfg := testSubscriberConfig
		cfg.ConsumerGroup = "g"
		if subs[i], err = sqlitepubsub.NewSubscriber(db, cfg, logger); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = subs[i].Close() })
		msgs, err := subs[i].Subscribe(t.Context(), topic)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for msg := range msgs {
				if n := inFlight.Add(1); n != 1 {
					t.Errorf("%d messages in flight at once", n)
				}
				// A query stands in for the handler's work, giving the
				// rival consumer time to (wrongly) deliver meanwhile.
				if _, err := db.ExecContext(msg.Context(), `SELECT count(*) FROM pubsub_messages`); err != nil {
					t.Error(err)
				}
				inFlight.Add(-1)
				msg.Ack()
				select {
				case received <- delivery{i, msg.UUID}:
				case <-t.Context().Done():
					return
				}
			}
		}()
	}

	// Duplicates are allowed (at-least-once); the order of first deliveries
	// is not negotiable.
	seen := map[string]bool{}
	var got []string
	delivered := [2]int{}
	for len(got) < count {
		select {
		case d := <-received:
			delivered[d.sub]++
			if !seen[d.id] {
				seen[d.id] = true
				got = append(got, d.id)
			}
			if len(got) == count/2 {
				go func() { _ = subs[d.sub].Close() }()
			}
		case <-time.After(receiveTimeout):
			t.Fatalf("received %d of %d messages", len(got), count)
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d: got %s, want %s", i, got[i], want[i])
		}
	}
	if delivered[0] == 0 || delivered[1] == 0 {
		t.Errorf("deliveries per subscriber %v: no handover happened", delivered)
	}
}

// A lease held by a consumer that died (it never renews nor releases) is
// taken over once it expires, and the message it held is delivered again.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	db := openDB(t)
	msg := publish(t, db, "takeover", "x")

	// The offsets table is the package's private schema; the test plays a
	// crashed process of the group by writing its lease directly.
	expiry := time.Now().Add(500 * time.Millisecond)
	if _, err := db.ExecContext(t.Context(),
		`INSERT INTO pubsub_offsets (consumer_group, topic, lease_owner, lease_until) VALUES (?, ?, ?, ?)`,
		"g", "takeover", "crashed", expiry.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	got := receive(t, subscribe(t, db, "g", "takeover"))
	got.Ack()
	if got.UUID != msg.UUID {
		t.Fatalf("got %s, want %s", got.UUID, msg.UUID)
	}
	if time.Now().Before(expiry) {
		t.Fatal("message delivered while another consumer's lease was valid")
	}
}

func TestSubscribeAfterClose(t *testing.T) {
	db := openDB(t)
	sub, err := sqlitepubsub.NewSubscriber(db, testSubscriberConfig, nil)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sub.Subscribe(t.Context(), "closed")
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-msgs; ok {
		t.Fatal("channel still open after Close")
	}
	if _, err := sub.Subscribe(t.Context(), "closed"); err == nil {
		t.Fatal("Subscribe after Close succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	for name, cfg := range map[string]sqlitepubsub.SubscriberConfig{
		"negative poll interval": {PollInterval: -time.Second},
		"negative nack sleep":    {NackResendSleep: -time.Second},
		"tiny lease":             {LeaseTimeout: time.Millisecond},
		"negative batch":         {BatchSize: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := sqlitepubsub.NewSubscriber(openDB(t), cfg, nil); err == nil {
				t.Fatal("NewSubscriber accepted an invalid config")
			}
		})
	}
}

// A batch's acknowledgements write the group's offset once, after the last
// one: a trigger records every change of acked_offset. Fifty messages
// published before the subscription are one batch (BatchSize 100); a
// restarted subscriber of the group then gets only what came after.
func TestABatchWritesTheOffsetOnce(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	const topic, group = "batched", "g"
	for _, stmt := range []string{
		`CREATE TABLE offset_writes (acked INTEGER NOT NULL)`,
		`CREATE TRIGGER offset_written AFTER UPDATE OF acked_offset ON pubsub_offsets
		 WHEN NEW.acked_offset <> OLD.acked_offset AND NEW.consumer_group = 'g'
		 BEGIN INSERT INTO offset_writes (acked) VALUES (NEW.acked_offset); END`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := sqlitepubsub.NewPublisher(db, sqlitepubsub.PublisherConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sent []*message.Message
	for range 50 {
		sent = append(sent, message.NewMessage(watermill.NewUUID(), []byte("m")))
	}
	if err := pub.Publish(topic, sent...); err != nil {
		t.Fatal(err)
	}

	sub := newSubscriber(t, db, group)
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sent {
		m := receive(t, msgs)
		if m.UUID != sent[i].UUID {
			t.Fatalf("message %d is %s, want %s", i, m.UUID, sent[i].UUID)
		}
		m.Ack()
	}
	var writes []int64
	deadline := time.Now().Add(receiveTimeout)
	for len(writes) == 0 && time.Now().Before(deadline) {
		writes = offsetWrites(t, db)
		time.Sleep(10 * time.Millisecond)
	}
	var last int64
	if err := db.QueryRowContext(ctx, `SELECT max("offset") FROM pubsub_messages WHERE topic = ?`, topic).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if len(writes) != 1 || writes[0] != last {
		t.Fatalf("offset writes %v, want one, to %d", writes, last)
	}

	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	after := publish(t, db, topic, "after")
	if m := receive(t, subscribe(t, db, group, topic)); m.UUID != after.UUID {
		t.Fatalf("after the restart the group got %s, want the new message %s", m.UUID, after.UUID)
	}
}

func offsetWrites(t *testing.T, db *sql.DB) []int64 {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT acked FROM offset_writes ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// PublishAll writes messages of several topics in one statement and keeps
// each topic's messages in slice order; a message with no topic fails the
// whole call before anything is written.
func TestPublishAllKeepsEachTopicsOrder(t *testing.T) {
	db := openDB(t)
	pub, err := sqlitepubsub.NewPublisher(db, sqlitepubsub.PublisherConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	topics := []string{"a", "b", "c"}
	var all []sqlitepubsub.Addressed
	want := map[string][]string{}
	for i := range 30 {
		topic := topics[(i*7)%3] // interleaved
		m := message.NewMessage(watermill.NewUUID(), []byte("x"))
		all = append(all, sqlitepubsub.Addressed{Topic: topic, Msg: m})
		want[topic] = append(want[topic], m.UUID)
	}
	bad := append(append([]sqlitepubsub.Addressed{}, all[:3]...), sqlitepubsub.Addressed{Msg: all[3].Msg})
	if err := pub.PublishAll(bad); err == nil {
		t.Fatal("PublishAll with an empty topic succeeded")
	}
	if err := pub.PublishAll(all); err != nil {
		t.Fatal(err)
	}
	for _, topic := range topics {
		msgs := subscribe(t, db, "g", topic)
		for i, id := range want[topic] {
			m := receive(t, msgs)
			if m.UUID != id {
				t.Fatalf("topic %s message %d is %s, want %s", topic, i, m.UUID, id)
			}
			m.Ack()
		}
	}
}
