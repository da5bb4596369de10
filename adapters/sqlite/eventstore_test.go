package sqlite_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/ports"
)

func newEvent(t *testing.T, n int) ports.NewEvent {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	return ports.NewEvent{
		Type: "order.placed.v1",
		Data: fmt.Appendf(nil, `{"n": %d}`, n),
		Metadata: ports.EventMetadata{
			EventID:       id,
			CorrelationID: uuid.NewString(),
			CausationID:   uuid.NewString(),
			OccurredAt:    time.Now().UTC(),
		},
	}
}

// The database itself refuses to change or remove a stored event.
func TestEventsAreAppendOnly(t *testing.T) {
	db := openDB(t)
	store := newEventStore(t, db)
	stream := ports.Stream{Type: "order", ID: uuid.NewString()}
	if _, err := store.Append(t.Context(), stream, ports.NoStream, []ports.NewEvent{newEvent(t, 1)}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE events SET event_type = 'tampered'`,
		`DELETE FROM events`,
	} {
		_, err := db.ExecContext(t.Context(), stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only trigger's abort", stmt, err)
		}
	}
	got, err := store.Load(t.Context(), stream, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Type != "order.placed.v1" {
		t.Fatalf("after refused changes: %+v", got)
	}
}

// envelope is the JSON Watermill's forwarder.Publisher wraps each outbox
// message in (components/forwarder/envelope.go); the forwarder unwraps it
// and publishes the message to DestinationTopic.
type envelope struct {
	DestinationTopic string            `json:"destination_topic"`
	UUID             string            `json:"uuid"`
	Payload          []byte            `json:"payload"`
	Metadata         map[string]string `json:"metadata"`
}

func receiveEvent(t *testing.T, msgs <-chan *message.Message) (string, ports.RecordedEvent) {
	t.Helper()
	select {
	case msg, ok := <-msgs:
		if !ok {
			t.Fatal("outbox channel closed")
		}
		msg.Ack()
		var env envelope
		if err := json.Unmarshal(msg.Payload, &env); err != nil {
			t.Fatalf("outbox message %s is not a forwarder envelope: %v", msg.UUID, err)
		}
		inner := message.NewMessage(env.UUID, env.Payload)
		inner.Metadata = env.Metadata
		e, err := eventwire.FromMessage(inner)
		if err != nil {
			t.Fatalf("outbox message %s: %v", msg.UUID, err)
		}
		return env.DestinationTopic, e
	case <-time.After(30 * time.Second):
		t.Fatal("no outbox message")
		return "", ports.RecordedEvent{}
	}
}

// An append's events reach the outbox topic, in the same transaction: a
// successful append publishes exactly its events, in order, carrying what
// Load returns; a conflicting append publishes nothing (the marker appended
// after it is the next outbox message).
func TestOutboxIsAtomicWithAppend(t *testing.T) {
	db := openDB(t)
	store := newEventStore(t, db)
	sub, err := sqlitepubsub.NewSubscriber(db, sqlitepubsub.SubscriberConfig{
		ConsumerGroup: "forwarder",
		PollInterval:  10 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	msgs, err := sub.Subscribe(t.Context(), outboxTopic)
	if err != nil {
		t.Fatal(err)
	}

	stream := ports.Stream{Type: "order", ID: uuid.NewString()}
	events := []ports.NewEvent{newEvent(t, 1), newEvent(t, 2)}
	if _, err := store.Append(t.Context(), stream, ports.NoStream, events); err != nil {
		t.Fatal(err)
	}
	stored, err := store.Load(t.Context(), stream, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range stored {
		topic, got := receiveEvent(t, msgs)
		if topic != eventTopic(stream.Type) {
			t.Errorf("destination topic %q, want %q", topic, eventTopic(stream.Type))
		}
		checkSameEvent(t, got, want)
	}

	_, err = store.Append(t.Context(), stream, ports.NoStream, []ports.NewEvent{newEvent(t, 3)})
	if !errors.Is(err, ports.ErrConcurrency) {
		t.Fatalf("conflicting append: err = %v, want a concurrency conflict", err)
	}
	marker := ports.Stream{Type: "order", ID: uuid.NewString()}
	markerEvent := newEvent(t, 4)
	if _, err := store.Append(t.Context(), marker, ports.NoStream, []ports.NewEvent{markerEvent}); err != nil {
		t.Fatal(err)
	}
	if _, got := receiveEvent(t, msgs); got.Metadata.EventID != markerEvent.Metadata.EventID {
		t.Fatalf("next outbox event is %s of %v, want the marker %s: the conflicting append published",
			got.Metadata.EventID, got.Stream, markerEvent.Metadata.EventID)
	}
}

func checkSameEvent(t *testing.T, got, want ports.RecordedEvent) {
	t.Helper()
	if got.Stream != want.Stream || got.Version != want.Version || got.Position != want.Position ||
		got.Type != want.Type || string(got.Data) != string(want.Data) ||
		got.Metadata.EventID != want.Metadata.EventID ||
		got.Metadata.CorrelationID != want.Metadata.CorrelationID ||
		got.Metadata.CausationID != want.Metadata.CausationID ||
		!got.Metadata.OccurredAt.Equal(want.Metadata.OccurredAt) ||
		!got.RecordedAt.Equal(want.RecordedAt) {
		t.Errorf("outbox event\n got %+v\nwant %+v", got, want)
	}
}

// Errors carry the same apperr codes as the PostgreSQL store's.
func TestEventStoreErrorCodes(t *testing.T) {
	store := newEventStore(t, openDB(t))
	stream := ports.Stream{Type: "order", ID: uuid.NewString()}
	first := newEvent(t, 1)
	if _, err := store.Append(t.Context(), stream, ports.NoStream, []ports.NewEvent{first}); err != nil {
		t.Fatal(err)
	}
	notJSON := newEvent(t, 2)
	notJSON.Data = []byte("{not json")
	badID := newEvent(t, 3)
	badID.Metadata.EventID = "not-a-uuid"
	for name, tc := range map[string]struct {
		stream ports.Stream
		events []ports.NewEvent
		want   apperr.Code
	}{
		"duplicate event id": {ports.Stream{Type: "order", ID: uuid.NewString()}, []ports.NewEvent{first}, apperr.Conflict},
		"data not JSON":      {stream, []ports.NewEvent{notJSON}, apperr.Invalid},
		"event id not UUID":  {stream, []ports.NewEvent{badID}, apperr.Invalid},
		"no stream id":       {ports.Stream{Type: "order"}, []ports.NewEvent{newEvent(t, 4)}, apperr.Invalid},
	} {
		_, err := store.Append(t.Context(), tc.stream, ports.AnyVersion, tc.events)
		if got := apperr.CodeOf(err); got != tc.want {
			t.Errorf("%s: err = %v (code %q), want code %q", name, err, got, tc.want)
		}
	}
	if _, err := store.ReadAll(t.Context(), ports.Position{}, 0); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("ReadAll limit 0: err = %v, want apperr.Invalid", err)
	}
	if got, err := store.Load(t.Context(), stream, 1); err != nil || len(got) != 1 {
		t.Fatalf("after refused appends: %d events, %v; want the first event only", len(got), err)
	}
}
