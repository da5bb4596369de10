package porttest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// RunDedupStore runs the ports.DedupStore contract against the stores that
// newStore returns: one fresh, empty store per subtest.
func RunDedupStore(t *testing.T, newStore func(t *testing.T) ports.DedupStore) {
	runContract(t, newStore, []contractCase[ports.DedupStore]{
		{"ClaimCompleteThenDone", testDedupDone},
		{"ClaimWhileHeldIsInFlight", testDedupInFlight},
		{"ReleaseAllowsAnotherClaim", testDedupRelease},
		{"ExpiredLeaseCanBeTakenOver", testDedupLeaseExpiry},
		{"KeysAreScopedByHandler", testDedupHandlerScope},
		{"ConcurrentClaimsOneWins", testDedupConcurrent},
		{"StaleReleaseKeepsTakenOverClaim", testDedupStaleRelease},
		{"StaleCompleteIsClaimLost", testDedupStaleComplete},
	})
}

func newDedupKey(handler string) ports.DedupKey {
	return ports.DedupKey{Handler: handler, MessageID: uuid.NewString()}
}

func mustClaim(t *testing.T, s ports.DedupStore, k ports.DedupKey, lease time.Duration, want ports.Claim) {
	t.Helper()
	got, err := s.Claim(testContext(t, 10*time.Second), k, lease)
	if err != nil {
		t.Fatalf("Claim(%v): %v", k, err)
	}
	if got != want {
		t.Fatalf("Claim(%v) = %d, want %d", k, got, want)
	}
}

func testDedupDone(t *testing.T, s ports.DedupStore) {
	k := newDedupKey("h")
	mustClaim(t, s, k, time.Minute, ports.ClaimAcquired)
	if err := s.Complete(testContext(t, 10*time.Second), k, time.Hour); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, k, time.Minute, ports.ClaimDone)
	// Releasing a key nobody holds is harmless; a done key stays done only
	// until released, which handlers never do after Complete.
	if err := s.Release(testContext(t, 10*time.Second), newDedupKey("h")); err != nil {
		t.Fatalf("Release of an absent key: %v", err)
	}
}

func testDedupInFlight(t *testing.T, s ports.DedupStore) {
	k := newDedupKey("h")
	mustClaim(t, s, k, time.Minute, ports.ClaimAcquired)
	mustClaim(t, s, k, time.Minute, ports.ClaimInFlight)
}

func testDedupRelease(t *testing.T, s ports.DedupStore) {
	k := newDedupKey("h")
	mustClaim(t, s, k, time.Minute, ports.ClaimAcquired)
	if err := s.Release(testContext(t, 10*time.Second), k); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, k, time.Minute, ports.ClaimAcquired)
}

func testDedupLeaseExpiry(t *testing.T, s ports.DedupStore) {
	k := newDedupKey("h")
	mustClaim(t, s, k, 50*time.Millisecond, ports.ClaimAcquired)
	waitFor(t, 10*time.Second, "the lease to run out", func() (bool, error) {
		got, err := s.Claim(testContext(t, 10*time.Second), k, time.Minute)
		return got == ports.ClaimAcquired, err
	})
	mustClaim(t, s, k, time.Minute, ports.ClaimInFlight)
}

func testDedupHandlerScope(t *testing.T, s ports.DedupStore) {
	a := newDedupKey("handler-a")
	b := ports.DedupKey{Handler: "handler-b", MessageID: a.MessageID}
	mustClaim(t, s, a, time.Minute, ports.ClaimAcquired)
	if err := s.Complete(testContext(t, 10*time.Second), a, time.Hour); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, b, time.Minute, ports.ClaimAcquired)
}

func testDedupConcurrent(t *testing.T, s ports.DedupStore) {
	k := newDedupKey("h")
	const n = 16
	results := make([]ports.Claim, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = s.Claim(testContext(t, 20*time.Second), k, time.Minute) })
	}
	wg.Wait()
	acquired := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("claim %d: %v", i, errs[i])
		}
		if results[i] == ports.ClaimAcquired {
			acquired++
		} else if results[i] != ports.ClaimInFlight {
			t.Errorf("claim %d = %d, want acquired or in flight", i, results[i])
		}
	}
	if acquired != 1 {
		t.Fatalf("%d of %d concurrent claims acquired the key, want exactly 1", acquired, n)
	}
}

// shortLease is the lease of the cases that let a claim run out: long
// enough that a claim is certainly held right after Claim returns, short
// enough to wait for.
const shortLease = 300 * time.Millisecond

// takeOver has a claim on k with shortLease, waits until its lease runs
// out, and claims k again as another consumer would.
func takeOver(t *testing.T, s ports.DedupStore, k ports.DedupKey) {
	t.Helper()
	mustClaim(t, s, k, shortLease, ports.ClaimAcquired)
	waitFor(t, 10*time.Second, "the first lease to run out and the claim to be taken over", func() (bool, error) {
		got, err := s.Claim(testContext(t, 10*time.Second), k, time.Minute)
		return got == ports.ClaimAcquired, err
	})
}

// A consumer whose lease ran out and whose message another consumer took
// over must not, by releasing late, free the new holder's claim: a third
// consumer would run the message alongside the second.
func testDedupStaleRelease(t *testing.T, s ports.DedupStore) {
	k := newDedupKey("h")
	takeOver(t, s, k)
	if err := s.Release(testContext(t, 10*time.Second), k); err != nil {
		t.Fatalf("stale Release: %v", err)
	}
	mustClaim(t, s, k, time.Minute, ports.ClaimInFlight)
}

// A consumer whose lease ran out and whose message another consumer took
// over learns, on Complete, that its claim was lost, and its late Complete
// does not mark done over the new holder's live claim.
func testDedupStaleComplete(t *testing.T, s ports.DedupStore) {
	k := newDedupKey("h")
	takeOver(t, s, k)
	err := s.Complete(testContext(t, 10*time.Second), k, time.Hour)
	if !errors.Is(err, ports.ErrClaimLost) {
		t.Fatalf("stale Complete = %v, want ErrClaimLost", err)
	}
	mustClaim(t, s, k, time.Minute, ports.ClaimInFlight)
}
