package porttest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// UnitOfWork is what the ports.Transactor contract runs on: a Transactor
// and two stores of its database that a unit of work spans.
type UnitOfWork struct {
	Tx        ports.Transactor
	Events    ports.EventStore
	Checkouts ports.CheckoutStore
	// Idempotency, when set, is the database's idempotency store: its
	// Complete must commit and roll back with the unit.
	Idempotency ports.IdempotencyStore
	// Snapshots, when set, is the database's snapshot store: a snapshot
	// it fails to write inside a unit must not fail the unit.
	Snapshots ports.SnapshotStore
}

// RunTransactor runs the ports.Transactor contract: one fresh, empty
// database per subtest.
func RunTransactor(t *testing.T, newUnit func(t *testing.T) UnitOfWork) {
	runContract(t, newUnit, []contractCase[UnitOfWork]{
		{"CommitsEveryStoreTogether", testUnitCommits},
		{"ErrorRollsEveryStoreBack", testUnitRollsBack},
		{"ReadsSeeOwnWrites", testUnitReadsOwnWrites},
		{"NestedRunsInTheOuter", testUnitNested},
		{"ConcurrencyErrorRollsBackAndRetrySucceeds", testUnitConcurrency},
		{"IdempotencyRecordCommitsWithTheUnit", testUnitIdempotency},
		{"LockedStreamsKeepOtherWritersOut", testUnitLocksStreams},
		{"FailedSnapshotLeavesTheUnitUsable", testUnitFailedSnapshot},
	})
}

// testUnitFailedSnapshot: a snapshot is only a cache, and the repositories
// write one inside the unit that loaded the stream, logging a failure and
// going on. So a failed SaveSnapshot must leave the unit's transaction
// usable: its later writes commit with it. (On Postgres a failed statement
// aborts the whole transaction unless a savepoint confines it.) The
// snapshot fails on the database's NOT NULL of its data.
func testUnitFailedSnapshot(t *testing.T, u UnitOfWork) {
	if u.Snapshots == nil {
		t.Skip("no snapshot store in this database's unit of work")
	}
	ctx := testContext(t, visibilityTimeout)
	stream, c := unitParts()
	err := u.Tx.InTx(ctx, func(ctx context.Context) error {
		bad := ports.Snapshot{Stream: stream, Version: 1, SchemaVersion: 1, Data: nil, TakenAt: time.Now().UTC()}
		if err := u.Snapshots.SaveSnapshot(ctx, bad); err == nil {
			t.Error("SaveSnapshot without data succeeded; want the database to refuse it")
		}
		return unitWrites(ctx, u, stream, c)
	})
	if err != nil {
		t.Fatalf("the unit failed after a failed snapshot: %v", err)
	}
	expectUnit(t, u, stream, c.OrderID, true)
}

var errUnitFailed = errors.New("unit failed on purpose")

// unitWrites appends one event to a new stream and saves a new checkout:
// the two writes of one saga step.
func unitWrites(ctx context.Context, u UnitOfWork, stream ports.Stream, c ports.Checkout) error {
	if _, err := u.Events.Append(ctx, stream, ports.NoStream, newEvents(1)); err != nil {
		return err
	}
	return u.Checkouts.Save(ctx, c)
}

func unitParts() (ports.Stream, ports.Checkout) {
	return ports.Stream{Type: "unit", ID: uuid.NewString()}, newCheckout(time.Now().UTC().Truncate(time.Microsecond))
}

func testUnitCommits(t *testing.T, u UnitOfWork) {
	ctx := testContext(t, visibilityTimeout)
	stream, c := unitParts()
	if err := u.Tx.InTx(ctx, func(ctx context.Context) error { return unitWrites(ctx, u, stream, c) }); err != nil {
		t.Fatal(err)
	}
	expectUnit(t, u, stream, c.OrderID, true)
}

// failedUnit runs body in a unit that then fails, and checks that the unit
// returned the failure and stored nothing.
func failedUnit(t *testing.T, u UnitOfWork, body func(ctx context.Context, stream ports.Stream, c ports.Checkout) error) {
	t.Helper()
	ctx := testContext(t, visibilityTimeout)
	stream, c := unitParts()
	err := u.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := body(ctx, stream, c); err != nil {
			return err
		}
		return errUnitFailed
	})
	if !errors.Is(err, errUnitFailed) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	expectUnit(t, u, stream, c.OrderID, false)
}

func testUnitRollsBack(t *testing.T, u UnitOfWork) {
	failedUnit(t, u, func(ctx context.Context, stream ports.Stream, c ports.Checkout) error {
		return unitWrites(ctx, u, stream, c)
	})
}

func testUnitReadsOwnWrites(t *testing.T, u UnitOfWork) {
	failedUnit(t, u, func(ctx context.Context, stream ports.Stream, c ports.Checkout) error {
		if err := unitWrites(ctx, u, stream, c); err != nil {
			return err
		}
		events, err := u.Events.Load(ctx, stream, 1)
		if err != nil || len(events) != 1 {
			t.Errorf("inside the unit, Load = %d events, %v; want its own append", len(events), err)
		}
		if got, err := u.Checkouts.Get(ctx, c.OrderID); err != nil || got.Version != 1 {
			t.Errorf("inside the unit, Get = %+v, %v; want its own save", got, err)
		}
		return nil
	})
}

// A unit inside a unit runs in the outer one: the outer's failure rolls
// back what the inner did.
func testUnitNested(t *testing.T, u UnitOfWork) {
	failedUnit(t, u, func(ctx context.Context, stream ports.Stream, c ports.Checkout) error {
		return u.Tx.InTx(ctx, func(ctx context.Context) error { return unitWrites(ctx, u, stream, c) })
	})
}

// A stale checkout save inside a unit rolls back the unit's append too, and
// the unit run again with the right version commits both.
func testUnitConcurrency(t *testing.T, u UnitOfWork) {
	ctx := testContext(t, visibilityTimeout)
	_, c := unitParts()
	if err := u.Checkouts.Save(ctx, c); err != nil {
		t.Fatal(err)
	}
	stream := ports.Stream{Type: "unit", ID: uuid.NewString()}
	stale := c
	stale.Version = 3 // the stored row is at 1, not 2
	err := u.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := u.Events.Append(ctx, stream, ports.NoStream, newEvents(1)); err != nil {
			return err
		}
		return u.Checkouts.Save(ctx, stale)
	})
	if !errors.Is(err, ports.ErrConcurrency) {
		t.Fatalf("stale save in a unit: %v, want ErrConcurrency", err)
	}
	if events, err := u.Events.Load(ctx, stream, 1); err != nil || len(events) != 0 {
		t.Fatalf("after the failed unit the stream has %d events (%v), want none", len(events), err)
	}
	next := c
	next.Version = 2
	if err := u.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := u.Events.Append(ctx, stream, ports.NoStream, newEvents(1)); err != nil {
			return err
		}
		return u.Checkouts.Save(ctx, next)
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := u.Checkouts.Get(ctx, c.OrderID); err != nil || got.Version != 2 {
		t.Fatalf("after the retried unit: %+v, %v; want version 2", got, err)
	}
}

// expectUnit checks, outside any unit, whether both writes are stored.
func expectUnit(t *testing.T, u UnitOfWork, stream ports.Stream, orderID string, stored bool) {
	t.Helper()
	ctx := testContext(t, visibilityTimeout)
	events, err := u.Events.Load(ctx, stream, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, cerr := u.Checkouts.Get(ctx, orderID)
	if cerr != nil && !errors.Is(cerr, ports.ErrCheckoutNotFound) {
		t.Fatal(cerr)
	}
	if gotEvents, gotCheckout := len(events) == 1, cerr == nil; gotEvents != stored || gotCheckout != stored {
		t.Fatalf("event stored %v, checkout stored %v; want both %v", gotEvents, gotCheckout, stored)
	}
}

// testUnitIdempotency: an idempotency key's response completed inside a
// unit commits with the unit's events or not at all, so a stored order and
// its key cannot disagree.
func testUnitIdempotency(t *testing.T, u UnitOfWork) {
	if u.Idempotency == nil {
		t.Skip("no idempotency store in this database")
	}
	ctx := testContext(t, visibilityTimeout)
	for _, fail := range []bool{true, false} {
		rec, ok, err := u.Idempotency.Reserve(ctx, uuid.NewString(), "fp", time.Minute, time.Hour)
		if err != nil || !ok {
			t.Fatalf("Reserve = %v, %v", ok, err)
		}
		stream := ports.Stream{Type: "unit", ID: uuid.NewString()}
		err = u.Tx.InTx(ctx, func(ctx context.Context) error {
			if _, err := u.Events.Append(ctx, stream, ports.NoStream, newEvents(1)); err != nil {
				return err
			}
			if err := u.Idempotency.Complete(ctx, rec.Key, rec.Token, ports.StoredResponse{Status: 201, Body: []byte("{}")}); err != nil {
				return err
			}
			if fail {
				return errUnitFailed
			}
			return nil
		})
		if fail != errors.Is(err, errUnitFailed) || (!fail && err != nil) {
			t.Fatalf("InTx (fail %v) = %v", fail, err)
		}
		events, err := u.Events.Load(ctx, stream, 1)
		if err != nil {
			t.Fatal(err)
		}
		again, _, err := u.Idempotency.Reserve(ctx, rec.Key, "fp", time.Minute, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if stored := again.Response != nil; stored != !fail || (len(events) == 1) != !fail {
			t.Fatalf("unit failed %v: %d events stored, response stored %v; want both or neither", fail, len(events), stored)
		}
	}
}

// testUnitLocksStreams: a unit that locks a stream (ports.StreamLocker)
// before loading it appends at the version it loaded, although another
// writer tried to append in between: that writer waits for the unit and then
// loses the version check instead. Outside a unit the lock is a no-op.
func testUnitLocksStreams(t *testing.T, u UnitOfWork) {
	ctx := testContext(t, visibilityTimeout)
	locker, ok := u.Events.(ports.StreamLocker)
	if !ok {
		t.Fatalf("%T is not a ports.StreamLocker", u.Events)
	}
	stream := ports.Stream{Type: "unit", ID: uuid.NewString()}
	if err := locker.LockStreams(ctx, stream); err != nil {
		t.Fatalf("lock outside a unit: %v", err)
	}
	locked := make(chan struct{})
	other := make(chan error, 1)
	go func() {
		<-locked
		_, err := u.Events.Append(ctx, stream, ports.NoStream, newEvents(1))
		other <- err
	}()
	err := u.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := locker.LockStreams(ctx, stream); err != nil {
			return err
		}
		events, err := u.Events.Load(ctx, stream, 1)
		if err != nil {
			return err
		}
		close(locked)
		// Long enough for the other writer to have appended, were the
		// stream not locked.
		time.Sleep(300 * time.Millisecond)
		_, err = u.Events.Append(ctx, stream, int64(len(events)), newEvents(1))
		return err
	})
	if err != nil {
		t.Fatalf("the locking unit: %v, want its append at the version it loaded", err)
	}
	if err := <-other; !errors.Is(err, ports.ErrConcurrency) {
		t.Fatalf("the other writer: %v, want ErrConcurrency (it came second)", err)
	}
}
