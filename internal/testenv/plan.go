package testenv

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PlanNode is a node of the plan EXPLAIN (ANALYZE, FORMAT JSON) prints:
// the rows it returned, and its children.
type PlanNode struct {
	NodeType   string     `json:"Node Type"`
	ActualRows float64    `json:"Actual Rows"` // a loop's, on average
	Loops      float64    `json:"Actual Loops"`
	Removed    float64    `json:"Rows Removed by Filter"` // every loop's
	Plans      []PlanNode `json:"Plans"`
}

// RowsScanned is how many rows the plan's scans read in all (returned, or
// read and removed by a filter), over all their loops.
func (p PlanNode) RowsScanned() float64 {
	var n float64
	if strings.HasSuffix(p.NodeType, "Scan") {
		n = p.ActualRows*p.Loops + p.Removed
	}
	for _, c := range p.Plans {
		n += c.RowsScanned()
	}
	return n
}

// MaxRows is the most rows a node of the plan returned: what a statement
// read at most from one scan.
func (p PlanNode) MaxRows() float64 {
	n := p.ActualRows
	for _, c := range p.Plans {
		n = max(n, c.MaxRows())
	}
	return n
}

// Explain runs EXPLAIN (ANALYZE, FORMAT JSON) of query (which it runs:
// an UPDATE updates) on q, and returns the plan's top node and the plan as
// Postgres printed it, for a failure's message.
func Explain(t testing.TB, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, query string, args ...any) (PlanNode, string) {
	t.Helper()
	var raw []byte
	if err := q.QueryRow(t.Context(), `EXPLAIN (ANALYZE, FORMAT JSON) `+query, args...).Scan(&raw); err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	var plan []struct {
		Plan PlanNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) != 1 {
		t.Fatalf("plan %s: %v", raw, err)
	}
	return plan[0].Plan, string(raw)
}
