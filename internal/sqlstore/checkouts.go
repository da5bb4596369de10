package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orderflow/orderflow/ports"
)

// CheckoutStore is the checkout saga's state in table checkouts. Save is one
// conditional statement, so two writers of one checkout cannot both win.
type CheckoutStore struct{ db DB }

// NewCheckoutStore returns a store on db.
func NewCheckoutStore(db DB) *CheckoutStore { return &CheckoutStore{db: db} }

// Save implements ports.CheckoutStore: an insert at version 1, otherwise an
// update of the row only if it is still at the version before.
func (s *CheckoutStore) Save(ctx context.Context, c ports.Checkout) error {
	d := s.db.Dialect
	steps, err := s.encodeSteps(c.Steps)
	if err != nil {
		return err
	}
	comps, err := s.encodeSteps(c.Compensations)
	if err != nil {
		return err
	}
	var next any // NULL: due at the deadline
	if !c.NextAttemptAt.IsZero() {
		next = d.time(c.NextAttemptAt)
	}
	args := []any{c.State, c.Reason, c.AuthorizationID, steps, comps, d.time(c.StartedAt),
		d.time(c.DeadlineAt), d.time(c.UpdatedAt), c.Attempts, next, c.ResumeState, c.ResumeReason, c.Version, c.OrderID}
	var n int64
	switch {
	case c.Version < 1:
		return d.errorf("save checkout %s: version %d", c.OrderID, c.Version)
	case c.Version == 1:
		n, err = s.db.Exec(ctx, `
			INSERT INTO checkouts (state, reason, authorization_id, steps, compensations,
				started_at, deadline_at, updated_at, attempts, next_attempt_at, resume_state, resume_reason,
				version, order_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING`, args...)
	default:
		n, err = s.db.Exec(ctx, `
			UPDATE checkouts SET state = ?, reason = ?, authorization_id = ?, steps = ?,
				compensations = ?, started_at = ?, deadline_at = ?, updated_at = ?, attempts = ?,
				next_attempt_at = ?, resume_state = ?, resume_reason = ?, version = ?
			WHERE order_id = ? AND version = ?`, append(args, c.Version-1)...)
	}
	if err != nil {
		return d.errorf("save checkout %s: %w", c.OrderID, err)
	}
	if n == 0 {
		return fmt.Errorf("checkout %s not at version %d: %w", c.OrderID, c.Version-1, ports.ErrConcurrency)
	}
	return nil
}

// SaveMany implements ports.CheckoutStore: on Postgres, one INSERT of the
// checkouts at version 1 and one UPDATE of the others, each row only if it
// is still at the version before; on SQLite (one writer, no round trip),
// Save for each.
//
// The UPDATE names its rows by key twice: joined to the arrays, and as
// order_id = ANY (ids). Without the second, the plan Postgres keeps for the
// prepared statement, made while the table was small (and never analyzed
// since, autovacuum off), joined the arrays to a scan of the whole table:
// 1.5 ms a batch at 15,000 checkouts, where one UPDATE a checkout cost 0.08.
func (s *CheckoutStore) SaveMany(ctx context.Context, cs []ports.Checkout) error {
	d := s.db.Dialect
	if d != postgresDialect || len(cs) < 2 {
		for _, c := range cs {
			if err := s.Save(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}
	var inserts, updates checkoutArrays
	for _, c := range cs {
		if c.Version < 1 {
			return d.errorf("save checkout %s: version %d", c.OrderID, c.Version)
		}
		rows := &updates
		if c.Version == 1 {
			rows = &inserts
		}
		if err := rows.add(s, c); err != nil {
			return err
		}
	}
	if err := s.saveArrays(ctx, inserts, saveManyInsertSQL, inserts.args()...); err != nil {
		return err
	}
	return s.saveArrays(ctx, updates, saveManyUpdateSQL, append(updates.args(), updates.orderID)...)
}

// saveArrays runs one of SaveMany's statements for rows, unless there are
// none, and checks that it saved every one.
func (s *CheckoutStore) saveArrays(ctx context.Context, rows checkoutArrays, query string, args ...any) error {
	if len(rows.orderID) == 0 {
		return nil
	}
	n, err := s.db.Exec(ctx, query, args...)
	if err != nil {
		return s.db.Dialect.errorf("save %d checkouts: %w", len(rows.orderID), err)
	}
	if int(n) != len(rows.orderID) {
		return fmt.Errorf("%d of checkouts %v not at the version before theirs: %w",
			len(rows.orderID)-int(n), rows.orderID, ports.ErrConcurrency)
	}
	return nil
}

// saveManyInsertSQL is SaveMany's INSERT; its arguments are
// checkoutArrays.args.
const saveManyInsertSQL = `INSERT INTO checkouts (` + checkoutColumns + `)
	SELECT ` + checkoutArrayValues + ` FROM ` + checkoutArraysSQL + `
	ON CONFLICT (order_id) DO NOTHING`

// saveManyUpdateSQL is SaveMany's UPDATE; its arguments are
// checkoutArrays.args and the order ids again.
const saveManyUpdateSQL = `UPDATE checkouts c SET state = u.state, reason = u.reason, authorization_id = u.authorization_id,
		steps = u.steps::jsonb, compensations = u.compensations::jsonb, started_at = u.started_at,
		deadline_at = u.deadline_at, updated_at = u.updated_at, attempts = u.attempts,
		next_attempt_at = u.next_attempt_at, resume_state = u.resume_state, resume_reason = u.resume_reason,
		version = u.version
	FROM ` + checkoutArraysSQL + `
	WHERE c.order_id = u.order_id AND c.version = u.version - 1
	  AND c.order_id = ANY (?::text[])`

// checkoutArrays are checkouts as one Postgres array a column, for
// checkoutArraysSQL.
type checkoutArrays struct {
	orderID, state, reason, authorizationID, steps, compensations []string
	startedAt, deadlineAt, updatedAt                              []time.Time
	attempts                                                      []int64
	nextAttemptAt                                                 []*time.Time
	resumeState, resumeReason                                     []string
	version                                                       []int64
}

func (a *checkoutArrays) add(s *CheckoutStore, c ports.Checkout) error {
	steps, err := s.marshalSteps(c.Steps)
	if err != nil {
		return err
	}
	comps, err := s.marshalSteps(c.Compensations)
	if err != nil {
		return err
	}
	var next *time.Time // NULL: due at the deadline
	if !c.NextAttemptAt.IsZero() {
		next = &c.NextAttemptAt
	}
	a.orderID = append(a.orderID, c.OrderID)
	a.state = append(a.state, c.State)
	a.reason = append(a.reason, c.Reason)
	a.authorizationID = append(a.authorizationID, c.AuthorizationID)
	a.steps = append(a.steps, string(steps))
	a.compensations = append(a.compensations, string(comps))
	a.startedAt = append(a.startedAt, c.StartedAt)
	a.deadlineAt = append(a.deadlineAt, c.DeadlineAt)
	a.updatedAt = append(a.updatedAt, c.UpdatedAt)
	a.attempts = append(a.attempts, int64(c.Attempts))
	a.nextAttemptAt = append(a.nextAttemptAt, next)
	a.resumeState = append(a.resumeState, c.ResumeState)
	a.resumeReason = append(a.resumeReason, c.ResumeReason)
	a.version = append(a.version, c.Version)
	return nil
}

func (a *checkoutArrays) args() []any {
	return []any{a.orderID, a.state, a.reason, a.authorizationID, a.steps, a.compensations,
		a.startedAt, a.deadlineAt, a.updatedAt, a.attempts, a.nextAttemptAt, a.resumeState, a.resumeReason, a.version}
}

// checkoutArraysSQL is the rows of checkoutArrays.args, as u.
const checkoutArraysSQL = `unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
		?::timestamptz[], ?::timestamptz[], ?::timestamptz[], ?::bigint[], ?::timestamptz[], ?::text[], ?::text[], ?::bigint[])
	AS u(` + checkoutColumns + `)`

// checkoutArrayValues are checkoutArraysSQL's columns, in checkoutColumns'
// order, the step logs as jsonb.
const checkoutArrayValues = `u.order_id, u.state, u.reason, u.authorization_id, u.steps::jsonb, u.compensations::jsonb,
	u.started_at, u.deadline_at, u.updated_at, u.attempts, u.next_attempt_at, u.resume_state, u.resume_reason, u.version`

// checkoutColumns are the columns scanCheckout reads, in its order.
const checkoutColumns = `order_id, state, reason, authorization_id, steps, compensations,
	started_at, deadline_at, updated_at, attempts, next_attempt_at, resume_state, resume_reason, version`

// Get implements ports.CheckoutStore.
func (s *CheckoutStore) Get(ctx context.Context, orderID string) (ports.Checkout, error) {
	c, err := s.scanCheckout(s.db.QueryRow(ctx, `SELECT `+checkoutColumns+` FROM checkouts WHERE order_id = ?`, orderID))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("order %s: %w", orderID, ports.ErrCheckoutNotFound)
	}
	if err != nil {
		return c, s.db.Dialect.errorf("get checkout %s: %w", orderID, err)
	}
	return c, nil
}

// InState implements ports.CheckoutStore.
func (s *CheckoutStore) InState(ctx context.Context, state, afterOrderID string, limit int) ([]ports.Checkout, error) {
	d := s.db.Dialect
	rows, err := s.db.Query(ctx, `SELECT `+checkoutColumns+` FROM checkouts
		WHERE state = ? AND order_id > ? ORDER BY order_id LIMIT ?`, state, afterOrderID, limit)
	if err != nil {
		return nil, d.errorf("checkouts in state %s: %w", state, err)
	}
	defer rows.Close()
	var out []ports.Checkout
	for rows.Next() {
		c, err := s.scanCheckout(rows)
		if err != nil {
			return nil, d.errorf("checkouts in state %s: %w", state, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, d.errorf("checkouts in state %s: %w", state, err)
	}
	return out, nil
}

// scanCheckout reads one row of checkoutColumns.
func (s *CheckoutStore) scanCheckout(row Row) (ports.Checkout, error) {
	var c ports.Checkout
	var steps, comps []byte
	err := row.Scan(&c.OrderID, &c.State, &c.Reason, &c.AuthorizationID, &steps, &comps,
		ScanTime(&c.StartedAt), ScanTime(&c.DeadlineAt), ScanTime(&c.UpdatedAt), &c.Attempts,
		ScanTime(&c.NextAttemptAt), &c.ResumeState, &c.ResumeReason, &c.Version)
	if err != nil {
		return c, err
	}
	if err := errors.Join(json.Unmarshal(steps, &c.Steps), json.Unmarshal(comps, &c.Compensations)); err != nil {
		return c, fmt.Errorf("checkout %s step log: %w", c.OrderID, err)
	}
	for i := range c.Steps {
		c.Steps[i].At = c.Steps[i].At.UTC()
	}
	for i := range c.Compensations {
		c.Compensations[i].At = c.Compensations[i].At.UTC()
	}
	return c, nil
}

// Claim implements ports.CheckoutStore: one UPDATE of the claimed rows,
// which a concurrent claim passes over on Postgres (SKIP LOCKED; SQLite
// has one writer at a time).
//
// The candidates are read state by state, each an ordered scan of the
// (state, next_attempt_at) index that stops after limit rows, and merged:
// a claim reads at most limit rows a state whatever the backlog. One scan
// with state IN (...) ordered by next_attempt_at would read and sort every
// due row of the states, so that a backlog of started checkouts made each
// claim slower the longer the backlog (4 ms a claim at 10,000 waiting).
func (s *CheckoutStore) Claim(ctx context.Context, states []string, now, until time.Time, limit int) ([]string, error) {
	d := s.db.Dialect
	if len(states) == 0 {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, claimSQL(d, len(states)), claimArgs(d, states, now, until, limit)...)
	if err != nil {
		return nil, d.errorf("claim checkouts: %w", err)
	}
	return scanIDs(rows, d, "claim checkouts")
}

// claimSQL is Claim's statement for n states; claimArgs are its arguments.
func claimSQL(d *Dialect, n int) string {
	scans := make([]string, n)
	for i := range scans {
		scans[i] = fmt.Sprintf(`SELECT * FROM (SELECT order_id, next_attempt_at FROM checkouts
		                   WHERE state = ? AND next_attempt_at <= ?
		                   ORDER BY next_attempt_at, order_id LIMIT ?%s) s%d`, d.skipLocked, i)
	}
	return `
		UPDATE checkouts SET next_attempt_at = ?
		WHERE order_id IN (SELECT order_id FROM (` + strings.Join(scans, " UNION ALL ") + `) due
		                   ORDER BY next_attempt_at, order_id LIMIT ?)
		RETURNING order_id`
}

func claimArgs(d *Dialect, states []string, now, until time.Time, limit int) []any {
	args := []any{d.time(until)}
	for _, st := range states {
		args = append(args, st, d.time(now), limit)
	}
	return append(args, limit)
}

// Due implements ports.CheckoutStore: the checkouts in one of states whose
// deadline is at or before now and that are due again (next_attempt_at
// NULL or at or before now), the earliest due first.
func (s *CheckoutStore) Due(ctx context.Context, now time.Time, states []string, limit int) ([]string, error) {
	d := s.db.Dialect
	if len(states) == 0 {
		return nil, nil
	}
	args := []any{d.time(now), d.time(now)}
	for _, st := range states {
		args = append(args, st)
	}
	args = append(args, limit)
	rows, err := s.db.Query(ctx, `
		SELECT order_id FROM checkouts
		WHERE deadline_at <= ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
		  AND state IN (?`+strings.Repeat(", ?", len(states)-1)+`)
		ORDER BY coalesce(next_attempt_at, deadline_at), order_id LIMIT ?`, args...)
	if err != nil {
		return nil, d.errorf("due checkouts: %w", err)
	}
	return scanIDs(rows, d, "due checkouts")
}

// encodeSteps encodes a step log for its column (marshalSteps).
func (s *CheckoutStore) encodeSteps(steps []ports.CheckoutStep) (any, error) {
	b, err := s.marshalSteps(steps)
	if err != nil {
		return nil, err
	}
	return s.db.Dialect.json(b), nil
}

// marshalSteps is a step log as JSON, with its times as stored (UTC, to
// the microsecond), as the other times of the row.
func (s *CheckoutStore) marshalSteps(steps []ports.CheckoutStep) ([]byte, error) {
	out := make([]ports.CheckoutStep, len(steps))
	for i, st := range steps {
		st.At = StoredTime(st.At)
		out[i] = st
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, s.db.Dialect.errorf("encode checkout steps: %w", err)
	}
	return b, nil
}

// scanIDs reads a column of order ids and closes rows.
func scanIDs(rows Rows, d *Dialect, what string) ([]string, error) {
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, d.errorf("%s: %w", what, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, d.errorf("%s: %w", what, err)
	}
	return ids, nil
}
