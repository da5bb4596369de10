package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// openGated opens a fresh file through the write gate, as Open does, with
// the gate's timeout set, and one table t(k) holding one row.
func openGated(t *testing.T, timeout time.Duration) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gate.db")
	c := newGatedConnector((&url.URL{Scheme: "file", Path: path, RawQuery: dsnParams}).String())
	c.timeout = timeout
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(maxOpenConns)
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE t (k INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO t (k) VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	return db
}

// holdWrite begins a transaction that writes, and so holds the gate, until
// the test ends or the returned function commits it.
func holdWrite(t *testing.T, db *sql.DB) (commit func()) {
	t.Helper()
	// Not t.Context(): it ends before the cleanup commits.
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(context.Background(), `UPDATE t SET k = k + 1`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	commit = func() {
		once.Do(func() {
			if err := tx.Commit(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(commit)
	return commit
}

// A second writer waits for the gate in Go, not in SQLite's busy handler:
// its context ends the wait (SQLite's busy handler would hold it for
// busy_timeout, 10 s, whatever the context), and it goes on once the first
// commits. Reads never wait.
func TestAWriterWaitsForTheGateAndItsContext(t *testing.T) {
	db := openGated(t, time.Minute)
	commit := holdWrite(t, db)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := db.ExecContext(ctx, `UPDATE t SET k = k + 1`); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write while another holds the gate: %v, want the context's deadline", err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := db.BeginTx(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a transaction while another holds the gate: %v, want the context's deadline", err)
	}
	var k int
	if err := db.QueryRowContext(t.Context(), ` SELECT k FROM t`).Scan(&k); err != nil || k != 0 {
		t.Fatalf("a read while a write is open: k=%d, %v; want the committed 0 at once", k, err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(t.Context(), `UPDATE t SET k = k + 10`)
		done <- err
	}()
	commit()
	if err := <-done; err != nil {
		t.Fatalf("the waiting write, after the commit: %v", err)
	}
	if err := db.QueryRowContext(t.Context(), `SELECT k FROM t`).Scan(&k); err != nil || k != 11 {
		t.Fatalf("k=%d, %v; want 11", k, err)
	}
}

// A wait longer than the gate's timeout fails as SQLITE_BUSY would after
// busy_timeout: a transient error, not a deadlock.
func TestTheGateTimesOut(t *testing.T) {
	db := openGated(t, 50*time.Millisecond)
	holdWrite(t, db)
	if _, err := db.ExecContext(t.Context(), `UPDATE t SET k = k + 1`); !errors.Is(err, errGateTimeout) {
		t.Fatalf("write: %v, want errGateTimeout", err)
	}
}

// A write with RETURNING outside a transaction keeps the gate until its
// rows are closed: SQLite's implicit transaction lasts until then.
func TestAWritesRowsHoldTheGateUntilClosed(t *testing.T) {
	db := openGated(t, time.Minute)
	rows, err := db.QueryContext(t.Context(), `UPDATE t SET k = k + 1 RETURNING k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close() // closed below, while the test goes on; a second Close is a no-op
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := db.ExecContext(ctx, `UPDATE t SET k = k + 1`); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write while RETURNING rows are open: %v, want the context's deadline", err)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `UPDATE t SET k = k + 1`); err != nil {
		t.Fatalf("a write after the rows closed: %v", err)
	}
	var k int
	if err := db.QueryRowContext(t.Context(), `SELECT k FROM t`).Scan(&k); err != nil || k != 2 {
		t.Fatalf("k=%d, %v; want 2", k, err)
	}
}

// Many writers of one process, each a read-modify-write transaction: every
// increment lands (no lost update, no SQLITE_BUSY), and a rolled-back
// transaction hands the gate on too.
func TestConcurrentWritersAllLand(t *testing.T) {
	db := openGated(t, time.Minute)
	const writers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				errs <- increment(t.Context(), db, (w+i)%5 == 0)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var k int
	if err := db.QueryRowContext(t.Context(), `SELECT k FROM t`).Scan(&k); err != nil || k != writers*each {
		t.Fatalf("k=%d, %v; want %d", k, err, writers*each)
	}
}

// increment adds one to k in a transaction; with rollbackFirst it first
// runs one that it rolls back.
func increment(ctx context.Context, db *sql.DB, rollbackFirst bool) error {
	if rollbackFirst {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE t SET k = k + 1000`); err != nil {
			return err
		}
		if err := tx.Rollback(); err != nil {
			return err
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	var k int
	if err := tx.QueryRowContext(ctx, `SELECT k FROM t`).Scan(&k); err != nil {
		_ = tx.Rollback()
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE t SET k = ?`, k+1); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Writes that queue while the gate is held are run by the next holder in
// one transaction, and each caller gets its own outcome: a row each, and
// a constraint violation only for the write that violates it (the group
// is rolled back and its writes run alone).
func TestQueuedWritesCommitAsOneGroup(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bad    bool
		groups int
	}{{"all good", false, 1}, {"one violates a constraint", true, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			db := openGated(t, time.Minute)
			if _, err := db.ExecContext(t.Context(), `CREATE TABLE u (id INTEGER PRIMARY KEY)`); err != nil {
				t.Fatal(err)
			}
			q := queueOf(t, db)
			commit := holdWrite(t, db)
			const n = maxOpenConns - 2 // one connection holds the gate; each writer holds one
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				id := i + 1
				if tc.bad && i == n/2 {
					id = 1 // the first write's id again
				}
				wg.Go(func() {
					_, errs[i] = db.ExecContext(t.Context(), `INSERT INTO u (id) VALUES (?)`, id)
				})
			}
			for q.len() < n {
				time.Sleep(time.Millisecond)
			}
			commit()
			wg.Wait()
			failed := 0
			for _, err := range errs {
				if err != nil {
					failed++
				}
			}
			var rows int
			if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM u`).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			wantFailed := 0
			if tc.bad {
				wantFailed = 1
			}
			if failed != wantFailed || rows != n-wantFailed || q.groups() != tc.groups {
				t.Fatalf("%d writes failed, %d rows, %d groups; want %d, %d, %d (errors %v)",
					failed, rows, q.groups(), wantFailed, n-wantFailed, tc.groups, errs)
			}
		})
	}
}

// A queued write whose context ends before a group takes it is not run.
func TestAQueuedWriteLeavesWithItsContext(t *testing.T) {
	db := openGated(t, time.Minute)
	commit := holdWrite(t, db)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := db.ExecContext(ctx, `UPDATE t SET k = 100`); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued write: %v, want the context's deadline", err)
	}
	commit()
	var k int
	if err := db.QueryRowContext(t.Context(), `SELECT k FROM t`).Scan(&k); err != nil || k != 1 {
		t.Fatalf("k=%d, %v; want 1 (the held transaction's, not the abandoned write's)", k, err)
	}
}

// queueOf returns the write queue of db's connector.
func queueOf(t *testing.T, db *sql.DB) *writeQueue {
	t.Helper()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var q *writeQueue
	if err := conn.Raw(func(dc any) error {
		q = dc.(*gatedConn).queue
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return q
}
