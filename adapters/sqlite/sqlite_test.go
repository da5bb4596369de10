package sqlite_test

import (
	"database/sql"
	"github.com/orderflow/orderflow/internal/storetest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"

	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/ports/porttest"
)

const outboxTopic = "outbox"

func eventTopic(streamType string) string { return streamType + ".events" }

// openDB opens a fresh database file, migrated, as the service does.
func openDB(t *testing.T) *sql.DB { return storetest.SQLiteDB(t) }

func newEventStore(t *testing.T, db *sql.DB) *sqlite.EventStore {
	t.Helper()
	s, err := sqlite.NewEventStore(db, sqlite.EventStoreConfig{
		OutboxTopic: outboxTopic,
		EventTopic:  eventTopic,
		Logger:      watermill.NewStdLogger(false, false),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEventStore(t *testing.T) {
	porttest.RunEventStore(t, func(t *testing.T) ports.EventStore {
		return newEventStore(t, openDB(t))
	})
}

func TestStatesLoader(t *testing.T) {
	porttest.RunStatesLoader(t, func(t *testing.T) porttest.StatesStores {
		db := openDB(t)
		return porttest.StatesStores{Events: newEventStore(t, db), Snapshots: sqlite.Stores(db).Snapshots}
	})
}

func TestOrderSummaryStore(t *testing.T) {
	porttest.RunOrderSummaryStore(t, func(t *testing.T) ports.OrderSummaryStore {
		return sqlite.Stores(openDB(t)).OrderSummary
	})
}

func TestEventStoreConfigValidate(t *testing.T) {
	db := openDB(t)
	for name, cfg := range map[string]sqlite.EventStoreConfig{
		"no outbox topic": {EventTopic: eventTopic},
		"no event topic":  {OutboxTopic: outboxTopic},
	} {
		if _, err := sqlite.NewEventStore(db, cfg); err == nil {
			t.Errorf("%s: NewEventStore accepted the config", name)
		}
	}
}

// Open applies its pragmas to every pooled connection, creates missing
// directories, accepts paths that need URI escaping, and can reopen a file.
func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir?with#odd%chars", "orderflow.db")
	for range 2 { // the second Open finds the schema up to date
		db, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		conns := make([]*sql.Conn, 3) // distinct connections of the pool
		for i := range conns {
			if conns[i], err = db.Conn(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		for _, conn := range conns {
			for pragma, want := range map[string]string{
				"journal_mode": "wal",
				"synchronous":  "2", // FULL
				"foreign_keys": "1",
				"busy_timeout": "10000",
			} {
				var got string
				if err := conn.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if !strings.EqualFold(got, want) {
					t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
				}
			}
			if err := conn.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSnapshotStore(t *testing.T) {
	porttest.RunSnapshotStore(t, func(t *testing.T) ports.SnapshotStore {
		return sqlite.Stores(openDB(t)).Snapshots
	})
}

func TestCheckpointStore(t *testing.T) {
	porttest.RunCheckpointStore(t, func(t *testing.T) (ports.CheckpointStore, ports.EventStore) {
		db := openDB(t)
		return sqlite.Stores(db).Checkpoints, newEventStore(t, db)
	})
}

func TestShadowOrderSummary(t *testing.T) {
	porttest.RunShadowOrderSummary(t, func(t *testing.T) (ports.OrderSummaryStore, ports.ShadowOrderSummary) {
		db := openDB(t)
		return sqlite.Stores(db).OrderSummary, sqlite.Stores(db).Shadow
	})
}

// The shadow table is a full order_summary: same contract.
func TestShadowTableIsAnOrderSummaryStore(t *testing.T) {
	porttest.RunOrderSummaryStore(t, func(t *testing.T) ports.OrderSummaryStore {
		s, err := sqlite.Stores(openDB(t)).Shadow.Shadow(t.Context(), true)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestCheckoutStore(t *testing.T) {
	porttest.RunCheckoutStore(t, func(t *testing.T) ports.CheckoutStore {
		return sqlite.Stores(openDB(t)).Checkouts
	})
}

func TestNotificationStore(t *testing.T) {
	porttest.RunNotificationStore(t, func(t *testing.T) ports.NotificationStore {
		return sqlite.Stores(openDB(t)).Notifications
	})
}

// Open creates the data directory it is given when it does not exist yet,
// as `orderflow serve` does with ./data on a fresh machine.
func TestOpenCreatesTheDataDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "nested", "orderflow.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
}

func TestTransactor(t *testing.T) {
	porttest.RunTransactor(t, func(t *testing.T) porttest.UnitOfWork {
		db := openDB(t)
		stores := sqlite.Stores(db)
		return porttest.UnitOfWork{Tx: stores.Tx, Events: newEventStore(t, db), Checkouts: stores.Checkouts, Idempotency: stores.Idempotency, Snapshots: stores.Snapshots}
	})
}

// A rebuilt table gets the live one's indexes back at the swap (the shadow
// is written without them), cycle after cycle.
func TestSwapRebuildsTheIndexes(t *testing.T) {
	db := openDB(t)
	indexes := func() []string {
		rows, err := db.QueryContext(t.Context(), `SELECT replace(substr(sql, instr(sql, ' ON ')), '"', '') FROM sqlite_schema
			WHERE type = 'index' AND tbl_name = 'order_summary' AND sql IS NOT NULL ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var defs []string
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				t.Fatal(err)
			}
			defs = append(defs, d)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return defs
	}
	want := indexes()
	if len(want) != 3 {
		t.Fatalf("migrated order_summary has indexes %q, want three", want)
	}
	sh := sqlite.Stores(db).Shadow
	for cycle := range 2 {
		if _, err := sh.Shadow(t.Context(), true); err != nil {
			t.Fatal(err)
		}
		if err := sh.Swap(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := indexes(); !slices.Equal(got, want) {
			t.Fatalf("cycle %d: indexes %q, want %q", cycle, got, want)
		}
	}
}
