package postgres_test

import (
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/ports/porttest"
)

func TestEventStoreContract(t *testing.T) {
	porttest.RunEventStore(t, func(t *testing.T) ports.EventStore {
		store, _ := newEventStore(t)
		return store
	})
}

func TestStatesLoaderContract(t *testing.T) {
	porttest.RunStatesLoader(t, func(t *testing.T) porttest.StatesStores {
		store, pool := newEventStore(t)
		return porttest.StatesStores{Events: store, Snapshots: postgres.Stores(pool).Snapshots}
	})
}

func TestOrderSummaryStoreContract(t *testing.T) {
	porttest.RunOrderSummaryStore(t, func(t *testing.T) ports.OrderSummaryStore {
		pool, _ := testenv.PostgresPool(t)
		return postgres.Stores(pool).OrderSummary
	})
}

// newEventStore returns a store on a fresh schema with its outbox ready.
func newEventStore(t testing.TB) (*postgres.EventStore, *pgxpool.Pool) {
	t.Helper()
	pool, _ := testenv.PostgresPool(t)
	var cfg postgres.EventStoreConfig
	if err := postgres.InitializeOutbox(t.Context(), pool, cfg); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.NewEventStore(pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return store, pool
}

func TestSnapshotStoreContract(t *testing.T) {
	porttest.RunSnapshotStore(t, func(t *testing.T) ports.SnapshotStore {
		pool, _ := testenv.PostgresPool(t)
		return postgres.Stores(pool).Snapshots
	})
}

func TestCheckpointStoreContract(t *testing.T) {
	porttest.RunCheckpointStore(t, func(t *testing.T) (ports.CheckpointStore, ports.EventStore) {
		store, pool := newEventStore(t)
		return postgres.Stores(pool).Checkpoints, store
	})
}

func TestShadowOrderSummaryContract(t *testing.T) {
	porttest.RunShadowOrderSummary(t, func(t *testing.T) (ports.OrderSummaryStore, ports.ShadowOrderSummary) {
		pool, _ := testenv.PostgresPool(t)
		return postgres.Stores(pool).OrderSummary, postgres.Stores(pool).Shadow
	})
}

// The shadow table is a full order_summary: same contract.
func TestShadowTableIsAnOrderSummaryStore(t *testing.T) {
	porttest.RunOrderSummaryStore(t, func(t *testing.T) ports.OrderSummaryStore {
		pool, _ := testenv.PostgresPool(t)
		s, err := postgres.Stores(pool).Shadow.Shadow(t.Context(), true)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestCheckoutStoreContract(t *testing.T) {
	porttest.RunCheckoutStore(t, func(t *testing.T) ports.CheckoutStore {
		pool, _ := testenv.PostgresPool(t)
		return postgres.Stores(pool).Checkouts
	})
}

func TestNotificationStoreContract(t *testing.T) {
	porttest.RunNotificationStore(t, func(t *testing.T) ports.NotificationStore {
		pool, _ := testenv.PostgresPool(t)
		return postgres.Stores(pool).Notifications
	})
}

func TestTransactorContract(t *testing.T) {
	porttest.RunTransactor(t, func(t *testing.T) porttest.UnitOfWork {
		store, pool := newEventStore(t)
		stores := postgres.Stores(pool)
		return porttest.UnitOfWork{Tx: stores.Tx, Events: store, Checkouts: stores.Checkouts, Idempotency: stores.Idempotency, Snapshots: stores.Snapshots}
	})
}

// A rebuilt table gets the live one's indexes back at the swap (the shadow
// is written without them), cycle after cycle, also after a swap that
// failed with some of them built (each is built once).
func TestSwapRebuildsTheIndexes(t *testing.T) {
	pool, _ := testenv.PostgresPool(t)
	indexes := func() []string {
		rows, err := pool.Query(t.Context(), `SELECT regexp_replace(pg_get_indexdef(indexrelid), '^CREATE (UNIQUE )?INDEX \S+ ON \S+ ', '')
			FROM pg_index WHERE indrelid = to_regclass('order_summary') ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return defs
	}
	want := indexes()
	if len(want) != 4 {
		t.Fatalf("migrated order_summary has indexes %q, want the key and three", want)
	}
	sh := postgres.Stores(pool).Shadow
	for cycle := range 3 {
		if _, err := sh.Shadow(t.Context(), true); err != nil {
			t.Fatal(err)
		}
		if cycle == 2 { // the one the interrupted swap had built
			if _, err := pool.Exec(t.Context(), `CREATE INDEX ON order_summary_shadow (status, created_at DESC, order_id DESC)`); err != nil {
				t.Fatal(err)
			}
		}
		if err := sh.Swap(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := indexes(); !slices.Equal(got, want) {
			t.Fatalf("cycle %d: indexes %q, want %q", cycle, got, want)
		}
	}
}
