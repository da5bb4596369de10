package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

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
	create func(ctx context.Context, db DB) error
}

// Shadow implements ports.ShadowOrderSummary. A fresh shadow table copies
// the live one's columns, defaults, constraints and indexes.
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

// Swap implements ports.ShadowOrderSummary: two renames and a drop in one
// transaction. On Postgres the ACCESS EXCLUSIVE lock the renames take makes
// readers wait for the commit (milliseconds) rather than fail; on SQLite
// readers in WAL mode keep reading the old table until the commit.
func (s *ShadowOrderSummary) Swap(ctx context.Context) error {
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
// ALL; Postgres names the indexes, so they never clash.
func createShadowLike(ctx context.Context, db DB) error {
	_, err := db.Exec(ctx, `DROP TABLE IF EXISTS `+summaryShadowTable+`;
		CREATE TABLE `+summaryShadowTable+` (LIKE `+summaryTable+` INCLUDING ALL)`)
	return err
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
// the shadow table, and its indexes, from the live table's own DDL in
// sqlite_schema, in one transaction.
func createShadowFromDDL(ctx context.Context, db DB) error {
	return db.InTx(ctx, func(tx DB) error {
		stmts, err := shadowDDL(ctx, tx)
		if err != nil {
			return err
		}
		for _, stmt := range append([]string{`DROP TABLE IF EXISTS ` + summaryShadowTable}, stmts...) {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	})
}

// shadowDDL returns the statements creating the shadow of the live table
// and of its indexes.
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
			out = append(out, createIndexName.ReplaceAllString(ddl, "CREATE "+m[1]+"INDEX "+name+" ON "+summaryShadowTable))
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
