package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/orderflow/orderflow/ports"
)

const (
	summaryTable       = "order_summary"
	summaryShadowTable = "order_summary_shadow"
	summaryOldTable    = "order_summary_old"
)

// ShadowOrderSummary rebuilds order_summary in order_summary_shadow (on
// Postgres, in the pool's current schema).
type ShadowOrderSummary struct{ db DB }

// NewShadowOrderSummary returns a rebuilder on db.
func NewShadowOrderSummary(db DB) *ShadowOrderSummary { return &ShadowOrderSummary{db: db} }

// shadowSQL is how a database finds and creates the shadow table.
type shadowSQL struct {
	exists string // selects whether the table named by the argument exists
	// create drops any shadow table and creates it with the live table's
	// columns, defaults, constraints and primary key, but not its other
	// indexes: those are built once the rows are in (indexes), far faster
	// than kept up to date row by row.
	create func(ctx context.Context, db DB) error
	// indexes builds on the shadow table the live one's indexes it lacks.
	indexes func(ctx context.Context, db DB) error
}

// Shadow implements ports.ShadowOrderSummary. A fresh shadow table copies
// the live one's columns, defaults, constraints and primary key; Swap gives
// it the live one's other indexes.
func (s *ShadowOrderSummary) Shadow(ctx context.Context, fresh bool) (ports.ShadowOrderSummaryStore, error) {
	d := s.db.Dialect
	if fresh {
		if err := d.shadow.create(ctx, s.db); err != nil {
			return nil, d.errorf("create %s: %w", summaryShadowTable, err)
		}
	} else {
		var exists bool
		if err := s.db.QueryRow(ctx, d.shadow.exists, summaryShadowTable).Scan(&exists); err != nil {
			return nil, d.errorf("find %s: %w", summaryShadowTable, err)
		}
		if !exists {
			return nil, d.errorf("no %s to resume: start a fresh rebuild", summaryShadowTable)
		}
	}
	return &ShadowStore{OrderSummaryStore{db: s.db, table: summaryShadowTable}}, nil
}

// Swap implements ports.ShadowOrderSummary: it builds the live table's
// indexes on the shadow one (the live table is not locked meanwhile), then
// two renames and a drop in one transaction. On Postgres the ACCESS
// EXCLUSIVE lock the renames take makes readers wait for the commit
// (milliseconds) rather than fail; on SQLite readers in WAL mode keep
// reading the old table until the commit.
func (s *ShadowOrderSummary) Swap(ctx context.Context) error {
	if err := s.db.Dialect.shadow.indexes(ctx, s.db); err != nil {
		return s.db.Dialect.errorf("index %s: %w", summaryShadowTable, err)
	}
	err := s.db.InTx(ctx, func(tx DB) error {
		for _, stmt := range []string{
			`ALTER TABLE ` + summaryTable + ` RENAME TO ` + summaryOldTable,
			`ALTER TABLE ` + summaryShadowTable + ` RENAME TO ` + summaryTable,
			`DROP TABLE ` + summaryOldTable,
		} {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	})
	if err != nil {
		return s.db.Dialect.errorf("swap %s: %w", summaryTable, err)
	}
	return nil
}

// createShadowLike (Postgres) copies the live table with LIKE ... INCLUDING
// ALL EXCLUDING INDEXES, then adds the primary key.
func createShadowLike(ctx context.Context, db DB) error {
	_, err := db.Exec(ctx, `DROP TABLE IF EXISTS `+summaryShadowTable+`;
		CREATE TABLE `+summaryShadowTable+` (LIKE `+summaryTable+` INCLUDING ALL EXCLUDING INDEXES);
		ALTER TABLE `+summaryShadowTable+` ADD PRIMARY KEY (order_id)`)
	return err
}

var pgIndexDef = regexp.MustCompile(`^CREATE (UNIQUE )?INDEX \S+ ON \S+ `)

// indexShadowLike (Postgres) creates on the shadow table each index of the
// live one but its primary key that the shadow table lacks (a swap that
// failed may have left some), all at once on connections of their own:
// with the server's parallel workers too, three builds on two cores take
// three quarters of the time of one after the other. Postgres names them,
// so they never clash.
func indexShadowLike(ctx context.Context, db DB) error {
	db = db.in(ctx)
	live, err := indexDefs(ctx, db, summaryTable)
	if err != nil {
		return err
	}
	built, err := indexDefs(ctx, db, summaryShadowTable)
	if err != nil {
		return err
	}
	var stmts []string
	for _, def := range live {
		if !slices.Contains(built, def) {
			stmts = append(stmts, `CREATE `+def.unique+`INDEX ON `+summaryShadowTable+` `+def.using)
		}
	}
	run := func(stmt string) error {
		if _, err := db.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
		return nil
	}
	if db.begin == nil { // a transaction: one connection, one statement at a time
		for _, stmt := range stmts {
			if err := run(stmt); err != nil {
				return err
			}
		}
		return nil
	}
	var g errgroup.Group
	for _, stmt := range stmts {
		g.Go(func() error { return run(stmt) })
	}
	return g.Wait()
}

// indexDef is an index's definition without its name and table: "UNIQUE "
// or "", and "USING btree (...) ...".
type indexDef struct{ unique, using string }

// indexDefs lists the indexes of table but its primary key.
func indexDefs(ctx context.Context, db DB, table string) ([]indexDef, error) {
	rows, err := db.Query(ctx, `SELECT pg_get_indexdef(indexrelid) FROM pg_index
		WHERE indrelid = to_regclass(?) AND NOT indisprimary ORDER BY indexrelid`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var defs []indexDef
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			return nil, err
		}
		m := pgIndexDef.FindStringSubmatch(def)
		if m == nil {
			return nil, fmt.Errorf("unexpected index of %s: %s", table, def)
		}
		defs = append(defs, indexDef{unique: m[1], using: def[len(m[0]):]})
	}
	return defs, rows.Err()
}

// shadowIndexPrefix: SQLite index names are schema-wide, so a shadow index
// is named by toggling this prefix on the live one's name; after a swap the
// next rebuild's names are free again.
const shadowIndexPrefix = "shadow_"

var (
	createTableName = regexp.MustCompile(`^CREATE TABLE\s+("?)order_summary("?)`)
	createIndexName = regexp.MustCompile(`^CREATE (UNIQUE )?INDEX\s+"?(\w+)"?\s+ON\s+"?order_summary"?`)
)

// createShadowFromDDL (SQLite, which has no CREATE TABLE ... LIKE) creates
// the shadow table from the live table's own DDL in sqlite_schema, in one
// transaction; indexShadowFromDDL its indexes.
func createShadowFromDDL(ctx context.Context, db DB) error {
	return shadowFromDDL(ctx, db, true)
}

func indexShadowFromDDL(ctx context.Context, db DB) error {
	return shadowFromDDL(ctx, db, false)
}

// shadowFromDDL runs the statements creating the shadow table (table) or
// its indexes (!table).
func shadowFromDDL(ctx context.Context, db DB, table bool) error {
	return db.InTx(ctx, func(tx DB) error {
		stmts, err := shadowDDL(ctx, tx)
		if err != nil {
			return err
		}
		if table {
			stmts = []string{`DROP TABLE IF EXISTS ` + summaryShadowTable, stmts[0]}
		} else {
			stmts = stmts[1:]
		}
		for _, stmt := range stmts {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	})
}

// shadowDDL returns the statements creating the shadow of the live table
// and then of its indexes (IF NOT EXISTS).
func shadowDDL(ctx context.Context, tx DB) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT type, sql FROM sqlite_schema
		WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'index'`, summaryTable)
	if err != nil {
		return nil, fmt.Errorf("read the DDL of %s: %w", summaryTable, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ, ddl string
		if err := rows.Scan(&typ, &ddl); err != nil {
			return nil, err
		}
		switch typ {
		case "table":
			if !createTableName.MatchString(ddl) {
				return nil, fmt.Errorf("unexpected DDL of %s: %s", summaryTable, ddl)
			}
			out = append(out, createTableName.ReplaceAllString(ddl, "CREATE TABLE "+summaryShadowTable))
		case "index":
			m := createIndexName.FindStringSubmatch(ddl)
			if m == nil {
				return nil, fmt.Errorf("unexpected index DDL on %s: %s", summaryTable, ddl)
			}
			name := m[2]
			if trimmed, ok := strings.CutPrefix(name, shadowIndexPrefix); ok {
				name = trimmed
			} else {
				name = shadowIndexPrefix + name
			}
			out = append(out, createIndexName.ReplaceAllString(ddl, "CREATE "+m[1]+"INDEX IF NOT EXISTS "+name+" ON "+summaryShadowTable))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no " + summaryTable + " table: is the database migrated?")
	}
	return out, nil
}
