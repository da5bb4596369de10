package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/internal/testenv"
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
