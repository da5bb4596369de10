package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/internal/sqlstore"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ports"
)

// Reading a stream's version (alone, or AppendMany's heads) touches one index entry, however long the
// stream, also in the generic plan Postgres uses for a statement pgx
// prepared and ran a few times. (max(version) read every entry of the
// stream there: an append to a hot SKU cost O(its history).)
func TestVersionReadTakesOneEntryOfALongStream(t *testing.T) {
	ctx := t.Context()
	conn := genericPlans(t, `SELECT 'inventory', 'HOT', g, gen_random_uuid(), 'x', '{}'::json, now() FROM generate_series(1, 2000) g
		UNION ALL -- many short streams, as orders are: the planner expects one row per stream
		SELECT 'order', 'o' || g, 1, gen_random_uuid(), 'x', '{}'::json, now() FROM generate_series(1, 20000) g`,
		`PREPARE version_plan(text, text) AS `+postgres.VersionSQL,
		`PREPARE heads_plan(text[], text[]) AS `+postgres.HeadsSQL)
	var version int64
	if err := conn.QueryRow(ctx, `EXECUTE version_plan('inventory', 'HOT')`).Scan(&version); err != nil || version != 2000 {
		t.Fatalf("version %d, %v; want 2000", version, err)
	}
	var younger bool
	if err := conn.QueryRow(ctx, `EXECUTE heads_plan('{inventory}', '{HOT}')`).Scan(&version, &younger); err != nil || version != 2000 {
		t.Fatalf("heads: version %d, %v; want 2000", version, err)
	}
	for _, q := range []string{`EXECUTE version_plan('inventory', 'HOT')`, `EXECUTE heads_plan('{inventory}', '{HOT}')`} {
		plan, raw := testenv.Explain(t, conn, q)
		if n := plan.MaxRows(); n > 1 {
			t.Fatalf("%s: a plan node read %.0f rows of the 2,000-event stream, want 1:\n%s", q, n, raw)
		}
	}
}

// LoadStreams reads its streams' rows by the streams' index, not the
// table, in the generic plan too.
func TestLoadStreamsReadsItsStreamsNotTheTable(t *testing.T) {
	conn := genericPlans(t, `SELECT 'order', 'o' || g, v, gen_random_uuid(), 'x', '{}'::json, now()
		FROM generate_series(1, 10000) g, generate_series(1, 2) v`,
		`PREPARE load_streams(text[], text[]) AS `+postgres.LoadStreamsSQL)
	query := `EXECUTE load_streams('{order,order,order}', '{o1,o5000,o9999}')`
	plan, raw := testenv.Explain(t, conn, query)
	if plan.ActualRows != 6 {
		t.Fatalf("%.0f events of 3 streams of 2, want 6:\n%s", plan.ActualRows, raw)
	}
	// The three arguments, and two events of each of three streams.
	if n := plan.RowsScanned(); n > 9 {
		t.Fatalf("the plan's scans read %.0f rows for 6 events of 3 streams, want 9 at most:\n%s", n, raw)
	}
}

// TestLoadStatesReadsTheTailNotTheStream: LoadStates of a long stream (a
// hot SKU's) reads the events after the snapshot, or after the version
// given, through the stream's index, never the stream from its start.
func TestLoadStatesReadsTheTailNotTheStream(t *testing.T) {
	conn := genericPlans(t, `SELECT 'inventory', 'hot', v, gen_random_uuid(), 'x', '{}'::json, now()
		FROM generate_series(1, 20000) v`,
		`INSERT INTO snapshots (stream_type, stream_id, version, schema_version, data, taken_at)
		 VALUES ('inventory', 'hot', 19990, 1, 'state', now())`,
		`PREPARE load_states(text, text, bigint) AS `+postgres.LoadStatesSQL(1))
	for query, want := range map[string]float64{
		`EXECUTE load_states('inventory', 'hot', 0)`:     10, // after the snapshot
		`EXECUTE load_states('inventory', 'hot', 19996)`: 5,  // from a cached version
	} {
		plan, raw := testenv.Explain(t, conn, query)
		if plan.ActualRows != want {
			t.Fatalf("%s: %.0f rows, want %.0f:\n%s", query, plan.ActualRows, want, raw)
		}
		// The argument, the snapshot, and the tail.
		if n := plan.RowsScanned(); n > want+2 {
			t.Fatalf("%s: the plan's scans read %.0f rows for a tail of %.0f events:\n%s", query, n, want, raw)
		}
	}
}

// genericPlans fills a fresh store's events with the rows of rows (a
// SELECT of stream_type, stream_id, version, event_id, event_type, data,
// occurred_at), analyzes them, and returns a connection that plans every
// statement generically (as Postgres does for one pgx prepared and ran a
// few times) with prepares run on it.
func genericPlans(t *testing.T, rows string, prepares ...string) *pgxpool.Conn {
	t.Helper()
	pool, _ := testenv.PostgresPool(t)
	ctx := t.Context()
	if _, err := pool.Exec(ctx, `INSERT INTO events (stream_type, stream_id, version, event_id, event_type, data, occurred_at) `+rows); err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Release)
	for _, q := range append([]string{`ANALYZE events`, `SET plan_cache_mode = force_generic_plan`}, prepares...) {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return conn
}

// LoadStates forces the generic plan for its own statements only: the unit
// of work it ran in plans as before. (Outside one, its pipeline is an
// implicit transaction, which a local setting does not outlive.)
func TestLoadStatesLeavesThePlanCacheModeAsItWas(t *testing.T) {
	store, pool := newEventStore(t)
	ctx := t.Context()
	st := ports.Stream{Type: "inventory", ID: "sku"}
	mode := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) string {
		var m string
		if err := q.QueryRow(ctx, `SHOW plan_cache_mode`).Scan(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	err := postgres.Stores(pool).Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := store.LoadStates(ctx, []ports.StateRead{{Stream: st}}, true); err != nil {
			return err
		}
		tx, _ := sqlstore.PgxTx(ctx, pool)
		if m := mode(tx); m != "auto" {
			t.Errorf("plan_cache_mode %s in the unit after LoadStates, want auto", m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
