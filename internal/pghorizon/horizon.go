// Package pghorizon is the read horizon of the project's Postgres readers
// that follow a table in commit order (the event store's ReadAll, the outbox
// forwarder, the Postgres broker's subscribers): the transaction id below
// which no transaction that could still add a row is running.
//
// Rows carry the id of the transaction that wrote them (transaction_id
// xid8), and readers take them in (transaction id, position) order. A row
// of a transaction still running when the reader looks will, once
// committed, sort before rows the reader may already have passed, so a
// reader only takes rows below the oldest transaction still running.
// watermill-sql takes the oldest running on the whole server
// (pg_snapshot_xmin(pg_current_snapshot())): then any transaction left open
// anywhere on the server — a batch job or an idle pgAdmin session in
// another database — stops every reader for as long as it stays open.
//
// Expr narrows that to transactions that could write what the readers
// read. A transaction of another database cannot write here, so it is left
// out when Postgres says where it runs: pg_stat_activity (its backend_xid
// and database) or pg_prepared_xacts. So is one of a connection of
// ReaderPool, which by contract writes no such rows. Every other running transaction still
// holds the horizon, including one whose database is not known, so the
// horizon is never later than what is safe:
//   - a transaction of this database is never left out;
//   - one that ended between the snapshot and the look at pg_stat_activity
//     is not found there, so it is kept (until the next read's snapshot no
//     longer lists it);
//   - pg_stat_activity shows every session's backend_xid and database to
//     every role (PostgreSQL 15); were one hidden, its transaction would be
//     kept, as watermill-sql keeps them.
//
// Its cost is one read of the server's backend status (one row per
// connection) and of its prepared transactions per read, through the
// functions under pg_stat_activity and pg_prepared_xacts (the views' joins
// cost as much again), evaluated once per statement: 0.3 ms with 37
// connections on the reference machine, against 0.04 ms for the server-wide
// horizon (pgbench, one client). A reader pays it once per batch or poll.
package pghorizon

import (
	"context"
	"fmt"
	"strconv"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ServerWide is watermill-sql's horizon: every transaction on the server.
const ServerWide = "pg_snapshot_xmin(pg_current_snapshot())"

// Expr is the horizon as an xid8 SQL expression, for `transaction_id <
// Expr`: the oldest transaction in the current snapshot that may run in
// this database, or the snapshot's xmax when there is none. The 32-bit
// xids of pg_stat_activity and pg_prepared_xacts are matched against the
// low 32 bits of the snapshot's xid8 values: running transactions are far
// fewer than 2^31 apart, so the low bits name one of them.
const Expr = `(WITH here AS (SELECT oid FROM pg_database WHERE datname = current_database()),
	cannot_write AS MATERIALIZED (
		SELECT a.backend_xid::text::bigint AS xid FROM pg_stat_get_activity(NULL) a
		 WHERE a.backend_xid IS NOT NULL
		   AND (a.datid <> (SELECT oid FROM here) OR a.application_name = '` + ReaderApp + `')
		UNION ALL
		SELECT p.transaction::text::bigint FROM pg_prepared_xact() p
		 WHERE p.dbid <> (SELECT oid FROM here))
	SELECT coalesce(min(r.xid), pg_snapshot_xmax(pg_current_snapshot()))
	  FROM pg_snapshot_xip(pg_current_snapshot()) AS r(xid)
	 WHERE NOT EXISTS (SELECT FROM cannot_write c WHERE c.xid = r.xid::text::bigint % 4294967296))`

// ReaderApp is the application_name of the connections of ReaderPool.
const ReaderApp = "orderflow-reader"

// ReaderPool is a pool like pool (same server, database, role and
// settings) whose connections are named ReaderApp, with at most maxConns
// of them. Give it only to readers in commit order, whose transactions
// write nothing those readers read: the Postgres broker's subscribers and
// the outbox forwarder's reader, whose only writes are their consumer
// groups' offsets. Their transactions then hold no reader's horizon, even
// while a handler or a publish keeps one open for seconds; before, every
// batch in flight held back every other consumer group, the forwarder and
// ReadAll. Never write events, outbox or broker rows through it: a reader
// could then pass them before they commit.
func ReaderPool(ctx context.Context, pool *pgxpool.Pool, maxConns int32) (*pgxpool.Pool, error) {
	cfg := pool.Config()
	params := make(map[string]string, len(cfg.ConnConfig.RuntimeParams)+1)
	for k, v := range cfg.ConnConfig.RuntimeParams {
		params[k] = v
	}
	params["application_name"] = ReaderApp
	// Every read of a reader is in the order of the table's key: a sort in
	// its plan means the planner chose to read the whole backlog and sort
	// it for one batch (see Schema.SelectQuery). It does so on a table
	// whose statistics say it is small: new, or never analyzed since it
	// grew (autovacuum off), and then keeps that generic plan for as long
	// as the connection keeps the prepared statement.
	params["enable_sort"] = "off"
	cfg.ConnConfig.RuntimeParams = params
	cfg.MaxConns, cfg.MinConns = maxConns, 0
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pghorizon: reader pool: %w", err)
	}
	return p, nil
}

// Schema is watermill-sql's DefaultPostgreSQLSchema with its own select
// (SelectQuery). Its tables, inserts and rows are DefaultPostgreSQLSchema's,
// so it reads and writes the same topics and offsets.
type Schema struct {
	wsql.DefaultPostgreSQLSchema
}

// SelectQuery is DefaultPostgreSQLSchema's select (the consumer group's
// next batch after its offset, in (transaction_id, offset) order), with two
// changes:
//   - it reads below Expr instead of the server-wide horizon;
//   - "after the offset" is the row comparison (transaction_id, offset) >
//     (last transaction, last offset), which the primary key's ordered scan
//     starts from, and the batch's LIMIT stops.
//
// watermill-sql writes it as (transaction_id = t AND offset > o) OR
// transaction_id > t, in a subquery that keeps the planner from scanning
// the key from its start with that filter. Its plan reads every row between
// the offset and the horizon and sorts them for the batch. A consumer
// group behind by 100,000 messages read all 100,000 for each batch of 100
// (23 ms a poll against 0.8 ms): the further behind, the slower it caught
// up.
func (s Schema) SelectQuery(params wsql.SelectQueryParams) (wsql.Query, error) {
	next, err := params.OffsetsAdapter.NextOffsetQuery(wsql.NextOffsetQueryParams{
		Topic: params.Topic, ConsumerGroup: params.ConsumerGroup,
	})
	if err != nil {
		return wsql.Query{}, err
	}
	batch := s.SubscribeBatchSize
	if batch == 0 {
		batch = defaultBatchSize
	}
	return wsql.Query{Query: `
		WITH last_processed AS (` + next.Query + `)
		SELECT "offset", transaction_id, uuid, payload, metadata FROM ` + s.MessagesTable(params.Topic) + `
		WHERE (transaction_id, "offset") > ((SELECT last_processed_transaction_id FROM last_processed),
		                                    (SELECT offset_acked FROM last_processed))
		  AND transaction_id < ` + Expr + `
		ORDER BY transaction_id, "offset"
		LIMIT ` + strconv.Itoa(batch), Args: next.Args}, nil
}

// defaultBatchSize is DefaultPostgreSQLSchema's batch when
// SubscribeBatchSize is 0.
const defaultBatchSize = 100
