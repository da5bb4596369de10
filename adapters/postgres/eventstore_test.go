package postgres_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/ports"
)

func newEvents(n int) []ports.NewEvent {
	events := make([]ports.NewEvent, n)
	for i := range events {
		id := uuid.Must(uuid.NewV7()).String()
		events[i] = ports.NewEvent{
			Type: "test.happened.v1",
			Data: fmt.Appendf(nil, `{"n":%d}`, i),
			Metadata: ports.EventMetadata{
				EventID: id, CorrelationID: "corr-" + id, CausationID: "cause-" + id,
				OccurredAt: time.Now().UTC().Truncate(time.Microsecond),
			},
		}
	}
	return events
}

func TestEventsTableIsAppendOnly(t *testing.T) {
	store, pool := newEventStore(t)
	stream := ports.Stream{Type: "order", ID: uuid.NewString()}
	if _, err := store.Append(t.Context(), stream, ports.NoStream, newEvents(2)); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE events SET event_type = 'rewritten'`,
		`DELETE FROM events`,
		`DELETE FROM events WHERE false`,
		`TRUNCATE events`,
	} {
		_, err := pool.Exec(t.Context(), stmt)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23001" {
			t.Errorf("%s: err = %v, want restrict_violation from the append-only trigger", stmt, err)
		}
	}
	if got, err := store.Load(t.Context(), stream, 1); err != nil || len(got) != 2 || got[0].Type != "test.happened.v1" {
		t.Fatalf("events after refused changes: %d, %v", len(got), err)
	}
}

// The contract only asks for JSON-equal data; this store keeps it byte for
// byte (a json column, not jsonb), and refuses what is not JSON.
func TestAppendKeepsDataByteExact(t *testing.T) {
	store, _ := newEventStore(t)
	stream := ports.Stream{Type: "order", ID: uuid.NewString()}
	events := newEvents(1)
	events[0].Data = []byte(`{ "zeta": 1,  "alpha" : [2, 3.50], "alpha": "dup" }`)
	if _, err := store.Append(t.Context(), stream, ports.NoStream, events); err != nil {
		t.Fatal(err)
	}
	got, err := store.Load(t.Context(), stream, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("Load: %d events, %v", len(got), err)
	}
	if string(got[0].Data) != string(events[0].Data) {
		t.Fatalf("data %s, want %s byte for byte", got[0].Data, events[0].Data)
	}

	bad := newEvents(1)
	bad[0].Data = []byte(`{not json`)
	if _, err := store.Append(t.Context(), stream, 1, bad); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("append of non-JSON data: err = %v, want apperr.Invalid", err)
	}
	bad = newEvents(1)
	bad[0].Metadata.EventID = "not-a-uuid"
	if _, err := store.Append(t.Context(), stream, 1, bad); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("append with a non-UUID event id: err = %v, want apperr.Invalid", err)
	}
	if _, err := store.Append(t.Context(), stream, 1, nil); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("append of no events: err = %v, want apperr.Invalid", err)
	}
}

// startForwarder runs Watermill's forwarder from the outbox to a Go channel
// Pub/Sub, as the service does towards its broker, and returns the
// messages arriving on topic.
func startForwarder(t *testing.T, pool *pgxpool.Pool, topic string) <-chan *message.Message {
	t.Helper()
	return startForwarderOf(t, pool, topic)[0]
}

// startForwarderOf is startForwarder for several topics: the messages
// arriving on each, in the order of topics.
func startForwarderOf(t *testing.T, pool *pgxpool.Pool, topics ...string) []<-chan *message.Message {
	t.Helper()
	logger := watermill.NopLogger{}
	sub, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(pool), wsql.SubscriberConfig{
		ConsumerGroup:  "forwarder",
		SchemaAdapter:  postgres.OutboxSchema,
		OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{},
		PollInterval:   10 * time.Millisecond,
	}, logger)
	if err != nil {
		t.Fatal(err)
	}
	// Blocking until the test acks keeps the forwarded order: otherwise the
	// Go channel Pub/Sub delivers each message from its own goroutine.
	out := gochannel.NewGoChannel(gochannel.Config{Persistent: true, BlockPublishUntilSubscriberAck: true}, logger)
	var received []<-chan *message.Message
	for _, topic := range topics {
		ch, err := out.Subscribe(t.Context(), topic)
		if err != nil {
			t.Fatal(err)
		}
		received = append(received, ch)
	}
	fwd, err := forwarder.NewForwarder(sub, out, logger, forwarder.Config{ForwarderTopic: postgres.DefaultOutboxTopic})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fwd.Run(t.Context()) }()
	t.Cleanup(func() {
		if err := fwd.Close(); err != nil {
			t.Errorf("close forwarder: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("forwarder: %v", err)
		}
		_ = out.Close()
	})
	return received
}

func receive(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case msg := <-ch:
		msg.Ack()
		return msg
	case <-time.After(30 * time.Second):
		t.Fatal("no message forwarded from the outbox within 30s")
		return nil
	}
}

func TestAppendPublishesToOutboxAtomically(t *testing.T) {
	store, pool := newEventStore(t)
	stream := ports.Stream{Type: "order", ID: uuid.NewString()}
	received := startForwarder(t, pool, postgres.DefaultEventTopic(stream.Type))

	if _, err := store.Append(t.Context(), stream, ports.NoStream, newEvents(3)); err != nil {
		t.Fatal(err)
	}
	stored, err := store.Load(t.Context(), stream, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range stored {
		got, err := eventwire.FromMessage(receive(t, received))
		if err != nil {
			t.Fatal(err)
		}
		if got.Metadata.EventID != want.Metadata.EventID || got.Version != want.Version ||
			got.Position != want.Position || got.Stream != want.Stream || string(got.Data) != string(want.Data) ||
			!got.RecordedAt.Equal(want.RecordedAt) {
			t.Fatalf("forwarded %+v, want %+v", got, want)
		}
	}

	// A conflicting append leaves no trace in the outbox: the next message
	// forwarded is the next successful append's, and the table holds one
	// row per stored event.
	if _, err := store.Append(t.Context(), stream, 1, newEvents(2)); !errors.Is(err, ports.ErrConcurrency) {
		t.Fatalf("stale append: err = %v, want a conflict", err)
	}
	next := newEvents(1)
	if _, err := store.Append(t.Context(), stream, 3, next); err != nil {
		t.Fatal(err)
	}
	if msg := receive(t, received); msg.UUID != next[0].Metadata.EventID {
		t.Fatalf("forwarded %s after the conflict, want the next event %s", msg.UUID, next[0].Metadata.EventID)
	}
	var rows int
	if err := pool.QueryRow(t.Context(),
		`SELECT count(*) FROM "watermill_`+postgres.DefaultOutboxTopic+`"`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 4 {
		t.Fatalf("outbox holds %d rows, want 4 (one per stored event)", rows)
	}
}
