package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderflow/orderflow/ports"
)

// ShadowStore is the shadow table of a rebuild: the order_summary store on
// it, and the bulk reads and writes that the rebuild's in-memory fold
// flushes through (ports.ShadowOrderSummaryStore).
type ShadowStore struct{ OrderSummaryStore }

// bulkSQL is how a database reads and writes many summary rows at once.
type bulkSQL struct {
	// getMany selects summaryColumns of the rows of table whose order_id is
	// one of ids; chunk bounds how many ids one statement takes.
	getMany func(table string, ids []string) (string, []any)
	chunk   int
	// putMany writes rows into table in tx (see ShadowStore.PutMany).
	putMany func(ctx context.Context, tx DB, table string, added, changed []ports.OrderSummary) error
}

// upsertTail ends an insert into table: a row replaces the stored one of
// its order only if that is at a lower version.
func upsertTail(table string) string {
	var set []string
	for _, c := range strings.Split(summaryColumns, ",") {
		if c = strings.TrimSpace(c); c != "order_id" {
			set = append(set, c+" = excluded."+c)
		}
	}
	return ` ON CONFLICT (order_id) DO UPDATE SET ` + strings.Join(set, ", ") +
		` WHERE ` + table + `.version < excluded.version`
}

// GetMany implements ports.ShadowOrderSummaryStore.
func (s *ShadowStore) GetMany(ctx context.Context, ids []string) ([]ports.OrderSummary, error) {
	d := s.db.Dialect
	var out []ports.OrderSummary
	for len(ids) > 0 {
		n := min(len(ids), d.bulk.chunk)
		query, args := d.bulk.getMany(s.table, ids[:n])
		rows, err := s.db.Query(ctx, query, args...)
		if err != nil {
			return nil, d.errorf("get %d order summaries: %w", n, err)
		}
		found, err := scanSummaries(rows)
		if err != nil {
			return nil, d.errorf("get %d order summaries: %w", n, err)
		}
		out = append(out, found...)
		ids = ids[n:]
	}
	return out, nil
}

// PutMany implements ports.ShadowOrderSummaryStore, in one transaction:
// Postgres COPYs added and sends changed as arrays in one statement, SQLite
// writes both as multi-row inserts.
func (s *ShadowStore) PutMany(ctx context.Context, added, changed []ports.OrderSummary) error {
	n := len(added) + len(changed)
	if n == 0 {
		return nil
	}
	d := s.db.Dialect
	if err := s.db.InTx(ctx, func(tx DB) error { return d.bulk.putMany(ctx, tx, s.table, added, changed) }); err != nil {
		return d.errorf("put %d order summaries: %w", n, err)
	}
	return nil
}

// itemsJSON encodes a row's items as the items column holds them.
func itemsJSON(items []ports.OrderLine) (string, error) {
	if items == nil {
		items = []ports.OrderLine{}
	}
	b, err := json.Marshal(items)
	return string(b), err
}

// postgresGetMany passes the ids as an array: one statement, one round
// trip, whatever their number.
func postgresGetMany(table string, ids []string) (string, []any) {
	return `SELECT ` + summaryColumns + ` FROM ` + table + ` WHERE order_id = ANY(?::text[])`, []any{ids}
}

// postgresPutMany upserts changed (postgresUpsert), then COPYs added: a
// plain load, with none of an upsert's work on the server (about half its
// CPU). If one of added is stored after all, the COPY fails on the primary
// key; the savepoint before it lets added be upserted instead.
func postgresPutMany(ctx context.Context, tx DB, table string, added, changed []ports.OrderSummary) error {
	if err := postgresUpsert(ctx, tx, table, changed); err != nil {
		return err
	}
	if len(added) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `SAVEPOINT shadow_added`); err != nil {
		return err
	}
	_, err := tx.copyFrom(ctx, table, summaryColumnNames, &summaryCopy{rows: added})
	var pgErr *pgconn.PgError
	if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "23505" /* unique_violation */ {
		return err
	}
	if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT shadow_added`); err != nil {
		return err
	}
	return postgresUpsert(ctx, tx, table, added)
}

// summaryColumnNames are summaryColumns, one name each.
var summaryColumnNames = func() []string {
	names := strings.Split(summaryColumns, ",")
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	return names
}()

// summaryCopy is the rows of a COPY of summaryColumnNames (a
// pgx.CopyFromSource); pgx encodes each row before it asks for the next,
// so one slice of values serves them all.
type summaryCopy struct {
	rows   []ports.OrderSummary
	next   int
	values [12]any
}

func (c *summaryCopy) Next() bool {
	c.next++
	return c.next <= len(c.rows)
}

func (c *summaryCopy) Values() ([]any, error) {
	r := &c.rows[c.next-1]
	js, err := itemsJSON(r.Items)
	if err != nil {
		return nil, err
	}
	c.values = [12]any{r.OrderID, r.CustomerID, r.Status, js, r.Total, r.Currency, r.Version,
		r.CreatedAt, r.UpdatedAt, r.CancellationReason, r.Carrier, r.TrackingNumber}
	return c.values[:], nil
}

func (c *summaryCopy) Err() error { return nil }

// postgresUpsert sends rows as arrays in one statement, each inserted or
// replacing an older version (upsertTail).
func postgresUpsert(ctx context.Context, tx DB, table string, rows []ports.OrderSummary) error {
	n := len(rows)
	if n == 0 {
		return nil
	}
	var (
		ids, customers, statuses, items, currencies = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		reasons, carriers, tracking                 = make([]string, n), make([]string, n), make([]string, n)
		totals, versions                            = make([]int64, n), make([]int64, n)
		created, updated                            = make([]time.Time, n), make([]time.Time, n)
	)
	for i, r := range rows {
		js, err := itemsJSON(r.Items)
		if err != nil {
			return err
		}
		ids[i], customers[i], statuses[i], items[i], currencies[i] = r.OrderID, r.CustomerID, r.Status, js, r.Currency
		reasons[i], carriers[i], tracking[i] = r.CancellationReason, r.Carrier, r.TrackingNumber
		totals[i], versions[i], created[i], updated[i] = r.Total, r.Version, r.CreatedAt, r.UpdatedAt
	}
	_, err := tx.Exec(ctx, `INSERT INTO `+table+` (`+summaryColumns+`)
		SELECT u.order_id, u.customer_id, u.status, u.items::jsonb, u.total, u.currency, u.version,
			u.created_at, u.updated_at, u.cancellation_reason, u.carrier, u.tracking_number
		FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::bigint[],
			?::timestamptz[], ?::timestamptz[], ?::text[], ?::text[], ?::text[])
			AS u(order_id, customer_id, status, items, total, currency, version,
			     created_at, updated_at, cancellation_reason, carrier, tracking_number)`+upsertTail(table),
		ids, customers, statuses, items, totals, currencies, versions, created, updated, reasons, carriers, tracking)
	return err
}

// sqliteGetMany lists the ids; sqliteChunk keeps a statement's variables
// under SQLite's limit (32766).
func sqliteGetMany(table string, ids []string) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return `SELECT ` + summaryColumns + ` FROM ` + table +
		` WHERE order_id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`, args
}

const sqliteChunk = 1000 // rows (or ids) per statement: 12 variables a row

// sqlitePutMany upserts added and changed alike: an insert into SQLite's
// b-tree costs the same with or without the conflict clause.
func sqlitePutMany(ctx context.Context, tx DB, table string, added, changed []ports.OrderSummary) error {
	if err := sqliteUpsert(ctx, tx, table, added); err != nil {
		return err
	}
	return sqliteUpsert(ctx, tx, table, changed)
}

func sqliteUpsert(ctx context.Context, tx DB, table string, rows []ports.OrderSummary) error {
	const cols = 12
	var full string // the statement of a full chunk, built once
	args := make([]any, 0, cols*sqliteChunk)
	for len(rows) > 0 {
		n := min(len(rows), sqliteChunk)
		args = args[:0]
		for _, r := range rows[:n] {
			js, err := itemsJSON(r.Items)
			if err != nil {
				return err
			}
			args = append(args, r.OrderID, r.CustomerID, r.Status, js, r.Total, r.Currency, r.Version,
				TextTime(r.CreatedAt), TextTime(r.UpdatedAt), r.CancellationReason, r.Carrier, r.TrackingNumber)
		}
		query := full
		if query == "" || n < sqliteChunk {
			query = `INSERT INTO ` + table + ` (` + summaryColumns + `) VALUES (?` + strings.Repeat(", ?", cols-1) + `)` +
				strings.Repeat(`, (?`+strings.Repeat(", ?", cols-1)+`)`, n-1) +
				upsertTail(table)
			if n == sqliteChunk {
				full = query
			}
		}
		if _, err := tx.Exec(ctx, query, args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
