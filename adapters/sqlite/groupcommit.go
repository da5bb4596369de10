package sqlite

import (
	"context"
	"database/sql/driver"
	"sync"
	"time"
	"unicode"
)

// Group commit of single-statement writes.
//
// Every write outside a transaction is a transaction of its own in SQLite,
// and with synchronous FULL its commit syncs the file: the embedded
// default's handlers (the read model's rows, the stored notifications, the
// consumer groups' offsets) each paid a sync for one row. Behind the gate
// they queue anyway, so the writer that takes the gate runs every write
// queued at that moment in one transaction, and answers each once that
// transaction is committed: a write is acknowledged only when it is on
// disk, as before, but a sync now covers all of them.
//
// Only INSERT, UPDATE, DELETE and REPLACE statements are grouped, never a
// write with RETURNING (a query) nor anything else. A statement that fails
// inside a group (a constraint, say) rolls the group back, and then each of
// its writes runs alone, so one caller's error is never another's. A caller
// whose context ends while its write waits gets the context's error and its
// write is not run; once a group has taken it, it is run, and the caller
// gets its outcome.

// maxGroup bounds a group, so that a transaction waiting for the gate
// waits for one group at most.
const maxGroup = 64

// writeQueue is the writes waiting for the gate, shared by the connector's
// connections.
type writeQueue struct {
	mu      sync.Mutex
	pending []*write
	grouped int // groups of more than one write committed together
}

type write struct {
	ctx   context.Context
	query string
	args  []driver.NamedValue
	done  chan writeResult // buffered: the leader never waits on it
}

type writeResult struct {
	res driver.Result
	err error
}

func (q *writeQueue) push(w *write) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, w)
}

// take removes and returns up to n queued writes, oldest first.
func (q *writeQueue) take(n int) []*write {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.pending))
	batch := append([]*write(nil), q.pending[:n]...)
	q.pending = append(q.pending[:0], q.pending[n:]...)
	return batch
}

// remove takes w out of the queue; false if a leader took it already.
func (q *writeQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

func (q *writeQueue) groups() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.grouped
}

func (q *writeQueue) remove(w *write) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, p := range q.pending {
		if p == w {
			q.pending = append(q.pending[:i], q.pending[i+1:]...)
			return true
		}
	}
	return false
}

// groupable: query is a plain INSERT, UPDATE, DELETE or REPLACE.
func groupable(query string) bool {
	for _, kw := range groupableKeywords {
		if rest, ok := afterKeyword(query, kw); ok && rest != "" && unicode.IsSpace(rune(rest[0])) {
			return true
		}
	}
	return false
}

var groupableKeywords = []string{"insert", "update", "delete", "replace"}

// groupWrite queues one write and returns its outcome: this connection
// runs the queue when it takes the gate, or another connection does first.
func (c *gatedConn) groupWrite(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	w := &write{ctx: ctx, query: query, args: args, done: make(chan writeResult, 1)}
	c.queue.push(w)
	t := time.NewTimer(c.timeout)
	defer t.Stop()
	abandon := func(err error) (driver.Result, error) {
		if c.queue.remove(w) {
			return nil, err
		}
		r := <-w.done // a group has it: its outcome is the caller's
		return r.res, r.err
	}
	for {
		select {
		case c.gate <- struct{}{}:
			c.runGroup(c.queue.take(maxGroup))
			c.release()
			select {
			case r := <-w.done: // in the group just run, or in one before it
				return r.res, r.err
			default: // further back than maxGroup: wait for the gate again
			}
		case r := <-w.done:
			return r.res, r.err
		case <-ctx.Done():
			return abandon(ctx.Err())
		case <-t.C:
			return abandon(errGateTimeout)
		}
	}
}

// runGroup runs batch, holding the gate: in one transaction when there is
// more than one write, each answered after the commit.
func (c *gatedConn) runGroup(batch []*write) {
	if len(batch) <= 1 {
		c.runEach(batch)
		return
	}
	tx, err := c.inner.BeginTx(context.Background(), driver.TxOptions{})
	if err != nil {
		c.runEach(batch)
		return
	}
	results := make([]writeResult, len(batch))
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			results[i].err = err // not run
			continue
		}
		res, err := c.exec(context.WithoutCancel(w.ctx), w.query, w.args)
		if err != nil {
			_ = tx.Rollback()
			c.runEach(batch)
			return
		}
		results[i].res = res
	}
	if err := tx.Commit(); err != nil {
		for i := range results {
			if results[i].err == nil {
				results[i] = writeResult{err: err}
			}
		}
	} else {
		c.queue.mu.Lock()
		c.queue.grouped++
		c.queue.mu.Unlock()
	}
	for i, w := range batch {
		w.done <- results[i]
	}
}

// runEach runs each write of batch alone.
func (c *gatedConn) runEach(batch []*write) {
	for _, w := range batch {
		if err := w.ctx.Err(); err != nil {
			w.done <- writeResult{err: err}
			continue
		}
		res, err := c.exec(context.WithoutCancel(w.ctx), w.query, w.args)
		w.done <- writeResult{res: res, err: err}
	}
}
