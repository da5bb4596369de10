package sqlite

import (
	"context"
	"database/sql"
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
	shadowIndexPrefix  = "shadow_"
)

var _ ports.ShadowOrderSummary = (*ShadowOrderSummary)(nil)

// ShadowOrderSummary rebuilds order_summary in order_summary_shadow.
//
// SQLite has no CREATE TABLE ... LIKE, so the shadow table is created from
// the live table's own DDL in sqlite_schema, and so are its indexes. Index
// names are schema-wide: a shadow index is named by toggling the prefix
// "shadow_" on the live one's name, so after a swap the next rebuild's
// names are free again.
type ShadowOrderSummary struct {
	db *sql.DB
}

// NewShadowOrderSummary returns a rebuilder on db, a database from Open.
func NewShadowOrderSummary(db *sql.DB) *ShadowOrderSummary {
	if db == nil {
		panic("sqlite: nil database")
	}
	return &ShadowOrderSummary{db: db}
}

var (
	createTableName = regexp.MustCompile(`^CREATE TABLE\s+("?)order_summary("?)`)
	createIndexName = regexp.MustCompile(`^CREATE (UNIQUE )?INDEX\s+"?(\w+)"?\s+ON\s+"?order_summary"?`)
)

// Shadow implements ports.ShadowOrderSummary.
func (s *ShadowOrderSummary) Shadow(ctx context.Context, fresh bool) (ports.OrderSummaryStore, error) {
	if !fresh {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`,
			summaryShadowTable).Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlite: find %s: %w", summaryShadowTable, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("sqlite: no %s to resume: start a fresh rebuild", summaryShadowTable)
		}
		return &OrderSummaryStore{db: s.db, table: summaryShadowTable}, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", summaryShadowTable, err)
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	stmts, err := shadowDDL(ctx, tx)
	if err != nil {
		return nil, err
	}
	for _, stmt := range append([]string{`DROP TABLE IF EXISTS ` + summaryShadowTable}, stmts...) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("sqlite: create %s: %s: %w", summaryShadowTable, stmt, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", summaryShadowTable, err)
	}
	return &OrderSummaryStore{db: s.db, table: summaryShadowTable}, nil
}

// shadowDDL returns the statements creating the shadow of the live table
// and of its indexes.
func shadowDDL(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT type, sql FROM sqlite_schema
		WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'index'`, summaryTable)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read the DDL of %s: %w", summaryTable, err)
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
				return nil, fmt.Errorf("sqlite: unexpected DDL of %s: %s", summaryTable, ddl)
			}
			out = append(out, createTableName.ReplaceAllString(ddl, "CREATE TABLE "+summaryShadowTable))
		case "index":
			m := createIndexName.FindStringSubmatch(ddl)
			if m == nil {
				return nil, fmt.Errorf("sqlite: unexpected index DDL on %s: %s", summaryTable, ddl)
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
		return nil, errors.New("sqlite: no " + summaryTable + " table: is the database migrated?")
	}
	return out, nil
}

// Swap implements ports.ShadowOrderSummary: two renames and a drop in one
// transaction. Readers in WAL mode keep reading the old table until the
// commit, then see the new one.
func (s *ShadowOrderSummary) Swap(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: swap %s: %w", summaryTable, err)
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	for _, stmt := range []string{
		`ALTER TABLE ` + summaryTable + ` RENAME TO ` + summaryOldTable,
		`ALTER TABLE ` + summaryShadowTable + ` RENAME TO ` + summaryTable,
		`DROP TABLE ` + summaryOldTable,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlite: swap %s: %s: %w", summaryTable, stmt, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: swap %s: commit: %w", summaryTable, err)
	}
	return nil
}
