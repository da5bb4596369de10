package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"time"

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
	putMany func(ctx context.Context, tx DB, table string, rows []ports.OrderSummary) error
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

// PutMany implements ports.ShadowOrderSummaryStore: Postgres sends the rows
// as arrays in one statement, SQLite as multi-row inserts, in one
// transaction.
func (s *ShadowStore) PutMany(ctx context.Context, rows []ports.OrderSummary) error {
	if len(rows) == 0 {
		return nil
	}
	d := s.db.Dialect
	if err := s.db.InTx(ctx, func(tx DB) error { return d.bulk.putMany(ctx, tx, s.table, rows) }); err != nil {
		return d.errorf("put %d order summaries: %w", len(rows), err)
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

// postgresGetMany and postgresPutMany pass the ids and the rows' columns as
// arrays: one statement, one round trip, whatever their number.
func postgresGetMany(table string, ids []string) (string, []any) {
	return `SELECT ` + summaryColumns + ` FROM ` + table + ` WHERE order_id = ANY(?::text[])`, []any{ids}
}

func postgresPutMany(ctx context.Context, tx DB, table string, rows []ports.OrderSummary) error {
	n := len(rows)
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

func sqlitePutMany(ctx context.Context, tx DB, table string, rows []ports.OrderSummary) error {
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
