// Package storetest opens the real stores of every backend for tests of the
// application core that need one: a fresh SQLite file and a fresh Postgres
// schema per call. It is imported by tests only.
package storetest

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ports"
)

// Stores is one backend's adapters, on an empty database.
type Stores struct {
	Name   string
	Events ports.EventStore
	Orders ports.OrderSummaryStore
	// Snapshots is the snapshot store of the same database.
	Snapshots ports.SnapshotStore
	// Shadow, Checkpoints and Poison are the same database's too.
	Shadow      ports.ShadowOrderSummary
	Checkpoints ports.CheckpointStore
	Poison      ports.PoisonStore
	// Idempotency is the same database's too, and Tx its units of work.
	Idempotency ports.IdempotencyStore
	Tx          ports.Transactor
	Checkouts   ports.CheckoutStore
	// SQLite and Postgres are the raw handles; exactly one is set.
	SQLite   *sql.DB
	Postgres *pgxpool.Pool
}

// Each runs fn as a subtest on fresh SQLite and Postgres stores.
func Each(t *testing.T, fn func(t *testing.T, s Stores)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLiteDB opens a fresh database file, migrated as the service does,
// closed at the end of t.
func SQLiteDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "orderflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// SQLite opens every store on a fresh database file (SQLiteDB).
func SQLite(t testing.TB) Stores {
	t.Helper()
	db := SQLiteDB(t)
	es, err := sqlite.NewEventStore(db, sqlite.EventStoreConfig{
		OutboxTopic: "outbox", EventTopic: func(s string) string { return s + ".events" },
		Logger: watermill.NopLogger{},
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := sqlite.Stores(db)
	return Stores{Name: "sqlite", Events: es, Orders: rows.OrderSummary, Snapshots: rows.Snapshots, Shadow: rows.Shadow,
		Checkpoints: rows.Checkpoints, Poison: rows.Poison, Idempotency: rows.Idempotency, Tx: rows.Tx, Checkouts: rows.Checkouts, SQLite: db}
}

// Postgres opens a fresh schema, migrated, dropped at the end of t.
func Postgres(t testing.TB) Stores {
	t.Helper()
	pool, _ := testenv.PostgresPool(t)
	cfg := postgres.EventStoreConfig{Logger: watermill.NopLogger{}}
	if err := postgres.InitializeOutbox(context.Background(), pool, cfg); err != nil {
		t.Fatal(err)
	}
	es, err := postgres.NewEventStore(pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows := postgres.Stores(pool)
	return Stores{Name: "postgres", Events: es, Orders: rows.OrderSummary, Snapshots: rows.Snapshots, Shadow: rows.Shadow,
		Checkpoints: rows.Checkpoints, Poison: rows.Poison, Idempotency: rows.Idempotency, Tx: rows.Tx, Checkouts: rows.Checkouts, Postgres: pool}
}

// ReadAll returns every stored event once at least want are visible to
// ReadAll. On Postgres an event becomes visible only when every older
// transaction on the server has ended, and other tests share the server, so
// it polls, up to a minute.
func ReadAll(t testing.TB, es ports.EventStore, want int) []ports.RecordedEvent {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var all []ports.RecordedEvent
		pos := ports.Position{}
		for {
			batch, err := es.ReadAll(context.Background(), pos, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(batch) == 0 {
				break
			}
			all = append(all, batch...)
			pos = batch[len(batch)-1].Position
		}
		if len(all) >= want {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d events visible to ReadAll after a minute", len(all), want)
		}
		time.Sleep(20 * time.Millisecond) // a poll interval, not a guess
	}
}
