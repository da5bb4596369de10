// Package porttest is the one contract test suite per port. Every adapter of
// a port runs the same suite from its own tests, so that all of them behave
// alike where the core can see it:
//
//	func TestEventStore(t *testing.T) {
//		porttest.RunEventStore(t, func(t *testing.T) ports.EventStore { ... })
//	}
//
// The constructor passed in is called once per subtest and must return a store
// that is empty and isolated from every other store the suite creates (a fresh
// schema or file per call): subtests assert on the whole store's contents.
// Cleanup belongs to the constructor, through t.Cleanup.
//
// The suites never sleep to synchronise. Where a store may legitimately show
// a write late (ReadAll hides events until every earlier transaction in the
// database server has ended, and other tests share that server), they poll
// for the condition with a deadline.
package porttest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"
)

// visibilityTimeout bounds how long a suite waits for a committed write to
// become visible to a reader.
const visibilityTimeout = 30 * time.Second

// contractCase is one named case of a port's contract.
type contractCase[S any] struct {
	name string
	test func(t *testing.T, s S)
}

// runContract runs each case as a subtest of its own, in order, against a
// fresh store that newStore returns for that subtest.
func runContract[S any](t *testing.T, newStore func(t *testing.T) S, cases []contractCase[S]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.test(t, newStore(t)) })
	}
}

// testContext returns a context cancelled when the test ends or after d.
func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// jsonEqual reports whether a and b hold the same JSON value, whatever their
// whitespace and key order (a jsonb column normalises both).
func jsonEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	ca, _ := json.Marshal(va)
	cb, _ := json.Marshal(vb)
	return bytes.Equal(ca, cb)
}

// waitFor polls cond until it returns true, failing the test after timeout.
// The pause between polls grows from 1ms to 50ms: it is a poll interval, not
// a guess at how long something takes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not reached after %s", what, timeout)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("waiting for %s: %v", what, t.Context().Err())
		case <-time.After(pause):
		}
		pause = min(pause*2, 50*time.Millisecond)
	}
}
