package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/ports"
)

// AppendMany over streams of two types writes each event to its type's
// topic in the outbox, as recorded (position, version, time), in stream
// order within a topic, with a fixed number of statements: one INSERT of
// events and one of outbox messages, however many streams and topics.
func TestAppendManyPublishesEachStreamToItsTopic(t *testing.T) {
	store, pool := newEventStore(t)
	received := startForwarderOf(t, pool, postgres.DefaultEventTopic("order"), postgres.DefaultEventTopic("inventory"))
	o := ports.Stream{Type: "order", ID: uuid.NewString()}
	a, b := ports.Stream{Type: "inventory", ID: uuid.NewString()}, ports.Stream{Type: "inventory", ID: uuid.NewString()}
	if _, err := store.Append(t.Context(), a, ports.NoStream, newEvents(1)); err != nil {
		t.Fatal(err)
	}
	inserts := countInserts(t, pool, "events")
	outbox := countInserts(t, pool, "watermill_"+postgres.DefaultOutboxTopic)
	if err := store.AppendMany(t.Context(), []ports.StreamAppend{
		{Stream: b, ExpectedVersion: ports.NoStream, Events: newEvents(2)},
		{Stream: o, ExpectedVersion: ports.NoStream, Events: newEvents(1)},
		{Stream: a, ExpectedVersion: 1, Events: newEvents(2)},
	}); err != nil {
		t.Fatal(err)
	}
	if got := inserts(); got != 1 {
		t.Errorf("%d inserts of events for 3 streams, want 1", got)
	}
	if got := outbox(); got != 1 {
		t.Errorf("%d outbox inserts for 2 topics, want 1", got)
	}
	// The inventory topic's events come first (streams are written in
	// type order), each stream's in version order.
	for _, c := range []struct {
		received <-chan *message.Message
		streams  []ports.Stream
	}{{received[1], []ports.Stream{a, b}}, {received[0], []ports.Stream{o}}} {
		want := map[string]ports.RecordedEvent{}
		for _, st := range c.streams {
			stored, err := store.Load(t.Context(), st, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range stored {
				want[e.Metadata.EventID] = e
			}
		}
		last := map[ports.Stream]int64{}
		for range want {
			got, err := eventwire.FromMessage(receive(t, c.received))
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[got.Metadata.EventID]
			if !ok || got.Version != w.Version || got.Position != w.Position || got.Stream != w.Stream || !got.RecordedAt.Equal(w.RecordedAt) {
				t.Fatalf("forwarded %+v, want %+v", got, w)
			}
			if got.Version <= last[got.Stream] {
				t.Fatalf("%s: version %d forwarded after %d", got.Stream, got.Version, last[got.Stream])
			}
			last[got.Stream] = got.Version
		}
	}
}

// A unit of work that wrote before it appends (so its transaction id is
// older than that of a writer who committed to the stream meanwhile) gets a
// conflict, not an append that ReadAll would deliver before its
// predecessor; the retried unit appends behind it.
func TestAppendManyBehindAYoungerTransactionConflicts(t *testing.T) {
	store, pool := newEventStore(t)
	tx := postgres.Stores(pool).Tx
	first, contended := ports.Stream{Type: "order", ID: uuid.NewString()}, ports.Stream{Type: "order", ID: uuid.NewString()}
	err := tx.InTx(t.Context(), func(ctx context.Context) error {
		if err := store.AppendMany(ctx, []ports.StreamAppend{{Stream: first, ExpectedVersion: ports.NoStream, Events: newEvents(1)}}); err != nil {
			return err
		}
		// Another transaction, younger (it gets its id now), appends to
		// the stream and commits.
		if _, err := store.Append(t.Context(), contended, ports.NoStream, newEvents(1)); err != nil {
			t.Fatal(err)
		}
		return store.AppendMany(ctx, []ports.StreamAppend{{Stream: contended, ExpectedVersion: 1, Events: newEvents(1)}})
	})
	if !errors.Is(err, ports.ErrConcurrency) {
		t.Fatalf("append behind a younger transaction: err = %v, want a conflict", err)
	}
	err = tx.InTx(t.Context(), func(ctx context.Context) error {
		return store.AppendMany(ctx, []ports.StreamAppend{{Stream: contended, ExpectedVersion: 1, Events: newEvents(1)}})
	})
	if err != nil {
		t.Fatalf("the same append in a fresh unit: %v", err)
	}
	var ordered bool
	if err := pool.QueryRow(t.Context(), `SELECT bool_and(ok) FROM (SELECT transaction_id >= lag(transaction_id) OVER (ORDER BY version) AS ok
		FROM events WHERE stream_type = $1 AND stream_id = $2) v WHERE ok IS NOT NULL`, contended.Type, contended.ID).Scan(&ordered); err != nil || !ordered {
		t.Fatalf("the stream's transaction ids do not grow with its versions (%v)", err)
	}
}

// countInserts counts the INSERT statements on table (of the test's own
// schema) from now on, with a statement-level trigger: the returned func
// reads the count.
func countInserts(t *testing.T, pool *pgxpool.Pool, table string) func() int {
	t.Helper()
	name := pgx.Identifier{"count_" + uuid.NewString()[:8]}.Sanitize()
	counter := pgx.Identifier{"count_" + uuid.NewString()[:8]}.Sanitize()
	for _, q := range []string{
		`CREATE TABLE ` + counter + ` (n int NOT NULL)`,
		`INSERT INTO ` + counter + ` VALUES (0)`,
		`CREATE FUNCTION ` + name + `() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN UPDATE ` + counter + ` SET n = n + 1; RETURN NULL; END $$`,
		`CREATE TRIGGER ` + name + ` AFTER INSERT ON ` + pgx.Identifier{table}.Sanitize() + `
			FOR EACH STATEMENT EXECUTE FUNCTION ` + name + `()`,
	} {
		if _, err := pool.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return func() int {
		var n int
		if err := pool.QueryRow(t.Context(), `SELECT n FROM `+counter).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}
