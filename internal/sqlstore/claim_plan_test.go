package sqlstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/testenv"
)

// A claim reads at most its limit of rows a state, however many checkouts
// wait: with one scan of state IN (...) ordered by next_attempt_at it read
// and sorted the whole backlog, so that each claim cost more the further
// the runner fell behind (4 ms a claim at 10,000 started checkouts).
func TestAClaimReadsItsLimitNotTheBacklog(t *testing.T) {
	pool, _ := testenv.PostgresPool(t)
	ctx := t.Context()
	const backlog, limit = 20000, 64
	if _, err := pool.Exec(ctx, `INSERT INTO checkouts (order_id, state, steps, started_at, deadline_at, updated_at, next_attempt_at, version)
		SELECT 'o' || g, CASE WHEN g % 5 = 0 THEN 'confirmed' ELSE 'reserving' END,
		       '[{"step": "reserve_inventory", "status": "done"}, {"step": "authorize_payment", "status": "done"}]',
		       now(), now() + interval '1 minute', now(), now() - g * interval '1 ms', 1
		FROM generate_series(1, $1) g`, backlog); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE checkouts`); err != nil {
		t.Fatal(err)
	}
	d := postgresDialect
	states := []string{"reserving", "authorizing", "confirming", "compensating"}
	now := time.Now()
	plan, raw := testenv.Explain(t, pool, numbered(claimSQL(d, len(states))), claimArgs(d, states, now, now.Add(time.Minute), limit)...)
	if claimed := plan.ActualRows; claimed != limit {
		t.Fatalf("claimed %.0f checkouts, want %d:\n%s", claimed, limit, raw)
	}
	if n := plan.MaxRows(); n > 2*limit {
		t.Fatalf("a plan node read %.0f rows of the %d waiting, want at most %d:\n%s", n, backlog*4/5, 2*limit, raw)
	}
	var leased int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM checkouts WHERE next_attempt_at > $1`, now).Scan(&leased); err != nil || leased != limit {
		t.Fatalf("%d checkouts leased, %v; want %d", leased, err, limit)
	}
}

// SaveMany's UPDATE reads the rows it saves, not the table, also in the
// plan Postgres kept from when the table was small (a prepared statement
// run again while the table is never analyzed).
func TestSaveManyReadsItsRowsNotTheTable(t *testing.T) {
	pool, _ := testenv.PostgresPool(t)
	ctx := t.Context()
	insert := func(from, to int) {
		t.Helper()
		if _, err := pool.Exec(ctx, `INSERT INTO checkouts (order_id, state, started_at, deadline_at, updated_at, version)
			SELECT 'o' || g, 'reserving', now(), now(), now(), 1 FROM generate_series($1::int, $2::int) g`, from, to); err != nil {
			t.Fatal(err)
		}
	}
	insert(1, 10)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// The arguments as literals of EXECUTE: o1..o3 at version v.
	execute := func(v int) string {
		ids := `'{o1,o2,o3}'`
		texts := `'{"","",""}'`
		times := `'{2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z}'`
		return fmt.Sprintf(`EXECUTE save_many(%s, '{authorizing,authorizing,authorizing}', %s, %s, '{[],[],[]}', '{[],[],[]}', %s, %s, %s, '{0,0,0}', '{NULL,NULL,NULL}', %s, %s, '{%d,%d,%d}', %s)`,
			ids, texts, texts, times, times, times, texts, texts, v, v, v, ids)
	}
	types := `text[], text[], text[], text[], text[], text[], timestamptz[], timestamptz[], timestamptz[], bigint[], timestamptz[], text[], text[], bigint[], text[]`
	for _, q := range []string{`SET plan_cache_mode = force_generic_plan`, `PREPARE save_many(` + types + `) AS ` + numbered(saveManyUpdateSQL),
		execute(2)} { // planned on 10 rows
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	insert(11, 20000)
	plan, raw := testenv.Explain(t, conn, execute(3))
	if n := plan.MaxRows(); n > 10 {
		t.Fatalf("a plan node read %.0f rows to save 3 of 20,000:\n%s", n, raw)
	}
	var saved int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM checkouts WHERE version = 3`).Scan(&saved); err != nil || saved != 3 {
		t.Fatalf("%d saved at version 3, %v; want 3", saved, err)
	}
}
