package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/ports"
)

const (
	summaryTable       = "order_summary"
	summaryShadowTable = "order_summary_shadow"
	summaryOldTable    = "order_summary_old"
)

var _ ports.ShadowOrderSummary = (*ShadowOrderSummary)(nil)

// ShadowOrderSummary rebuilds order_summary in order_summary_shadow, in the
// pool's current schema.
type ShadowOrderSummary struct {
	pool *pgxpool.Pool
}

// NewShadowOrderSummary panics on a nil pool.
func NewShadowOrderSummary(pool *pgxpool.Pool) *ShadowOrderSummary {
	if pool == nil {
		panic("postgres.NewShadowOrderSummary: nil pool")
	}
	return &ShadowOrderSummary{pool: pool}
}

// Shadow implements ports.ShadowOrderSummary. The fresh shadow table copies
// the live one's columns, defaults, constraints and indexes (LIKE ...
// INCLUDING ALL; Postgres names the indexes, so they never clash).
func (s *ShadowOrderSummary) Shadow(ctx context.Context, fresh bool) (ports.OrderSummaryStore, error) {
	if fresh {
		_, err := s.pool.Exec(ctx, `DROP TABLE IF EXISTS `+summaryShadowTable+`;
			CREATE TABLE `+summaryShadowTable+` (LIKE `+summaryTable+` INCLUDING ALL)`)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", summaryShadowTable, err)
		}
	} else {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, summaryShadowTable).Scan(&exists); err != nil {
			return nil, fmt.Errorf("find %s: %w", summaryShadowTable, err)
		}
		if !exists {
			return nil, fmt.Errorf("no %s to resume: start a fresh rebuild", summaryShadowTable)
		}
	}
	return &OrderSummaryStore{pool: s.pool, table: summaryShadowTable}, nil
}

// Swap implements ports.ShadowOrderSummary: two renames and a drop in one
// transaction. The ACCESS EXCLUSIVE lock the renames take makes readers wait
// for the commit (milliseconds) rather than fail.
func (s *ShadowOrderSummary) Swap(ctx context.Context) (err error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return fmt.Errorf("swap %s: %w", summaryTable, err)
	}
	defer func() {
		if err == nil {
			return
		}
		if rerr := tx.Rollback(context.WithoutCancel(ctx)); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) {
			err = errors.Join(err, rerr)
		}
	}()
	for _, stmt := range []string{
		`ALTER TABLE ` + summaryTable + ` RENAME TO ` + summaryOldTable,
		`ALTER TABLE ` + summaryShadowTable + ` RENAME TO ` + summaryTable,
		`DROP TABLE ` + summaryOldTable,
	} {
		if _, err = tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("swap %s: %s: %w", summaryTable, stmt, err)
		}
	}
	if err = tx.Commit(ctx); err != nil {
		return fmt.Errorf("swap %s: commit: %w", summaryTable, err)
	}
	return nil
}
