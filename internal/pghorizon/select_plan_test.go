package pghorizon_test

import (
	"fmt"
	"testing"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/orderflow/orderflow/internal/pghorizon"
	"github.com/orderflow/orderflow/internal/testenv"
)

// A consumer group far behind reads one batch per select, not its whole
// backlog: the select starts the primary key's ordered scan at its offset
// and stops at the batch, also in the generic plan of a table never
// analyzed (ReaderPool plans without sorts). watermill-sql's own select read every row from
// the offset to the horizon and sorted them (100,000 rows for a batch of
// 100 at 100,000 behind), so a group read slower the further behind it was.
// The batch is the rows after the offset, in (transaction_id, offset)
// order, on into the next transaction.
func TestSelectReadsABatchNotTheBacklog(t *testing.T) {
	pool, _ := testenv.PostgresPool(t)
	ctx := t.Context()
	const topic, group, backlog, batch = "plan_topic", "plan_group", 20000, 100
	schema := pghorizon.Schema{DefaultPostgreSQLSchema: wsql.DefaultPostgreSQLSchema{SubscribeBatchSize: batch}}
	offsets := wsql.DefaultPostgreSQLOffsetsAdapter{}
	init, err := schema.SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	more, err := offsets.SchemaInitializingQueries(wsql.OffsetsSchemaInitializingQueriesParams{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	zero, err := offsets.BeforeSubscribingQueries(wsql.BeforeSubscribingQueriesParams{Topic: topic, ConsumerGroup: group})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append(append(init, more...), zero...) {
		if _, err := pool.Exec(ctx, q.Query, q.Args...); err != nil {
			t.Fatalf("%s: %v", q.Query, err)
		}
	}
	table := schema.MessagesTable(topic)
	addTransaction := func(i int) {
		t.Helper()
		if _, err := pool.Exec(ctx, `INSERT INTO `+table+` (uuid, payload, metadata, transaction_id)
			SELECT $1 || g, '{}', '{}', pg_current_xact_id() FROM generate_series(1, 100) g`, fmt.Sprintf("t%d-", i)); err != nil {
			t.Fatal(err)
		}
	}
	q, err := schema.SelectQuery(wsql.SelectQueryParams{Topic: topic, ConsumerGroup: group, OffsetsAdapter: offsets})
	if err != nil {
		t.Fatal(err)
	}
	readers, err := pghorizon.ReaderPool(ctx, pool, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(readers.Close)
	conn, err := readers.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// A reader prepares its select while the topic is new and small, and
	// Postgres keeps the plan it made then (a generic plan, as for a
	// statement pgx prepared and ran a few times, never replanned while
	// the table is not analyzed: autovacuum off).
	addTransaction(0)
	for _, stmt := range []string{`SET plan_cache_mode = force_generic_plan`, `PREPARE sel(text) AS ` + q.Query, `EXECUTE sel('` + group + `')`} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	// Then the backlog comes: transactions of 100 messages each.
	for i := 1; i < backlog/100; i++ {
		addTransaction(i)
	}
	// The group has passed the first transaction's first 50.
	if _, err := pool.Exec(ctx, `UPDATE `+offsets.MessagesOffsetsTable(topic)+` o
		SET offset_acked = m."offset", last_processed_transaction_id = m.transaction_id
		FROM `+table+` m WHERE m.uuid = 't0-50' AND o.consumer_group = $1`, group); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rows, err := tx.Query(ctx, `EXECUTE sel('`+group+`')`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var offset int64
		var xid wsql.XID8
		var uuid string
		var payload, metadata []byte
		if err := rows.Scan(&offset, &xid, &uuid, &payload, &metadata); err != nil {
			t.Fatal(err)
		}
		got = append(got, uuid)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 51; i <= 150; i++ {
		want = append(want, fmt.Sprintf("t%d-%d", (i-1)/100, (i-1)%100+1))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("selected %v, want the first transaction's last 50 and the next one's first 50", got)
	}
	plan, raw := testenv.Explain(t, tx, `EXECUTE sel('`+group+`')`)
	if n := plan.MaxRows(); n > 2*batch {
		t.Fatalf("a plan node read %.0f rows for a batch of %d:\n%s", n, batch, raw)
	}
}
