package sqlstore

import (
	"encoding/json"
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
	var raw []byte
	if err := pool.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+numbered(claimSQL(d, len(states))),
		claimArgs(d, states, now, now.Add(time.Minute), limit)...).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var plan []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) != 1 {
		t.Fatalf("plan %s: %v", raw, err)
	}
	if claimed := plan[0].Plan.ActualRows; claimed != limit {
		t.Fatalf("claimed %.0f checkouts, want %d:\n%s", claimed, limit, raw)
	}
	if n := plan[0].Plan.maxRows(); n > 2*limit {
		t.Fatalf("a plan node read %.0f rows of the %d waiting, want at most %d:\n%s", n, backlog*4/5, 2*limit, raw)
	}
	var leased int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM checkouts WHERE next_attempt_at > $1`, now).Scan(&leased); err != nil || leased != limit {
		t.Fatalf("%d checkouts leased, %v; want %d", leased, err, limit)
	}
}

type planNode struct {
	ActualRows float64    `json:"Actual Rows"`
	Plans      []planNode `json:"Plans"`
}

func (p planNode) maxRows() float64 {
	n := p.ActualRows
	for _, c := range p.Plans {
		n = max(n, c.maxRows())
	}
	return n
}
