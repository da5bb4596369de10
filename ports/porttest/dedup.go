package porttest

import (
	"context"
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
		{"StaleCallsAreClaimLost", testDedupStaleCalls},
		{"RenewedClaimOutlivesItsLease", testDedupRenew},
	})
}

func newDedupKey(handler string) ports.DedupKey {
	return ports.DedupKey{Handler: handler, MessageID: uuid.NewString()}
}

// mustClaim claims k and checks the state; it returns the token (non-empty
// exactly when the claim was acquired).
func mustClaim(t *testing.T, s ports.DedupStore, k ports.DedupKey, lease time.Duration, want ports.Claim) string {
	t.Helper()
	got, err := s.Claim(testContext(t, 10*time.Second), k, lease)
	if err != nil {
		t.Fatalf("Claim(%v): %v", k, err)
	}
	if got.State != want {
		t.Fatalf("Claim(%v) = %d, want %d", k, got.State, want)
	}
	if (got.Token != "") != (want == ports.ClaimAcquired) {
		t.Fatalf("Claim(%v) = state %d with token %q: a token comes with, and only with, an acquired claim",
			k, got.State, got.Token)
	}
	return got.Token
}

func testDedupDone(t *testing.T, s ports.DedupStore) {
	k := newDedupKey("h")
	token := mustClaim(t, s, k, time.Minute, ports.ClaimAcquired)
	if err := s.Complete(testContext(t, 10*time.Second), k, token, time.Hour); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, k, time.Minute, ports.ClaimDone)
	// A done mark is no longer a claim: completing it again is ErrClaimLost.
	if err := s.Complete(testContext(t, 10*time.Second), k, token, time.Hour); !errors.Is(err, ports.ErrClaimLost) {
		t.Fatalf("second Complete = %v, want ErrClaimLost", err)
	}
	// Releasing a done key, or a key nobody holds, is harmless and changes
	// nothing.
	if err := s.Release(testContext(t, 10*time.Second), k, token); err != nil {
		t.Fatalf("Release of a done key: %v", err)
	}
	mustClaim(t, s, k, time.Minute, ports.ClaimDone)
	if err := s.Release(testContext(t, 10*time.Second), newDedupKey("h"), uuid.NewString()); err != nil {
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
	token := mustClaim(t, s, k, time.Minute, ports.ClaimAcquired)
	// Another token (a consumer that never held the claim) releases nothing.
	if err := s.Release(testContext(t, 10*time.Second), k, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, k, time.Minute, ports.ClaimInFlight)
	if err := s.Release(testContext(t, 10*time.Second), k, token); err != nil {
		t.Fatal(err)
	}
	if again := mustClaim(t, s, k, time.Minute, ports.ClaimAcquired); again == token {
		t.Fatalf("a new claim reused the released claim's token %q", token)
	}
}

func testDedupLeaseExpiry(t *testing.T, s ports.DedupStore) {
	k := newDedupKey("h")
	mustClaim(t, s, k, 50*time.Millisecond, ports.ClaimAcquired)
	waitFor(t, 10*time.Second, "the lease to run out", func() (bool, error) {
		got, err := s.Claim(testContext(t, 10*time.Second), k, time.Minute)
		return got.State == ports.ClaimAcquired, err
	})
	mustClaim(t, s, k, time.Minute, ports.ClaimInFlight)
}

func testDedupHandlerScope(t *testing.T, s ports.DedupStore) {
	a := newDedupKey("handler-a")
	b := ports.DedupKey{Handler: "handler-b", MessageID: a.MessageID}
	token := mustClaim(t, s, a, time.Minute, ports.ClaimAcquired)
	if err := s.Complete(testContext(t, 10*time.Second), a, token, time.Hour); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, b, time.Minute, ports.ClaimAcquired)
}

func testDedupConcurrent(t *testing.T, s ports.DedupStore) {
	k := newDedupKey("h")
	const n = 16
	results := make([]ports.ClaimResult, n)
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
		if results[i].State == ports.ClaimAcquired {
			acquired++
		} else if results[i].State != ports.ClaimInFlight {
			t.Errorf("claim %d = %d, want acquired or in flight", i, results[i].State)
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
// out, and claims k again as another consumer would. It returns the tokens
// of the first (stale) claim and of the second (live) one.
func takeOver(t *testing.T, s ports.DedupStore, k ports.DedupKey) (stale, live string) {
	t.Helper()
	stale = mustClaim(t, s, k, shortLease, ports.ClaimAcquired)
	waitFor(t, 10*time.Second, "the first lease to run out and the claim to be taken over", func() (bool, error) {
		got, err := s.Claim(testContext(t, 10*time.Second), k, time.Minute)
		live = got.Token
		return got.State == ports.ClaimAcquired, err
	})
	if live == stale {
		t.Fatalf("the claim taken over kept the stale token %q", stale)
	}
	return stale, live
}

// A consumer whose lease ran out and whose message another consumer took
// over must not, by releasing late, free the new holder's claim: a third
// consumer would run the message alongside the second.
func testDedupStaleRelease(t *testing.T, s ports.DedupStore) {
	k := newDedupKey("h")
	stale, live := takeOver(t, s, k)
	if err := s.Release(testContext(t, 10*time.Second), k, stale); err != nil {
		t.Fatalf("stale Release: %v", err)
	}
	mustClaim(t, s, k, time.Minute, ports.ClaimInFlight)
	// The live holder still owns its claim.
	if err := s.Complete(testContext(t, 10*time.Second), k, live, time.Hour); err != nil {
		t.Fatalf("live Complete after a stale Release: %v", err)
	}
	mustClaim(t, s, k, time.Minute, ports.ClaimDone)
}

// A claim renewed before its lease ends stays in flight beyond the original
// lease: other consumers keep getting ClaimInFlight all along.
func testDedupRenew(t *testing.T, s ports.DedupStore) {
	k := newDedupKey("h")
	start := time.Now()
	token := mustClaim(t, s, k, shortLease, ports.ClaimAcquired)
	if err := s.Renew(testContext(t, 10*time.Second), k, token, time.Minute); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	// Poll, rather than sleep, through twice the original lease.
	for time.Since(start) < 2*shortLease {
		mustClaim(t, s, k, time.Minute, ports.ClaimInFlight)
	}
	if err := s.Complete(testContext(t, 10*time.Second), k, token, time.Hour); err != nil {
		t.Fatalf("Complete of a renewed claim: %v", err)
	}
	mustClaim(t, s, k, time.Minute, ports.ClaimDone)
}

// A consumer whose claim another consumer took over learns, on Complete or
// Renew, that it lost it (ErrClaimLost): its work may be duplicated. Its
// stale call changes nothing: the message stays in flight, and the live
// holder still renews and completes its claim.
func testDedupStaleCalls(t *testing.T, s ports.DedupStore) {
	for _, tc := range []struct {
		op    string
		stale func(ctx context.Context, k ports.DedupKey, token string) error
	}{
		{"Complete", func(ctx context.Context, k ports.DedupKey, token string) error {
			return s.Complete(ctx, k, token, time.Hour)
		}},
		{"Renew", func(ctx context.Context, k ports.DedupKey, token string) error {
			return s.Renew(ctx, k, token, time.Minute)
		}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			k := newDedupKey("h")
			live := staleIsClaimLost(t, s, k, tc.op, func(ctx context.Context, stale string) error { return tc.stale(ctx, k, stale) })
			mustClaim(t, s, k, time.Minute, ports.ClaimInFlight)
			if err := s.Renew(testContext(t, 10*time.Second), k, live, time.Minute); err != nil {
				t.Fatalf("live Renew after a stale %s: %v", tc.op, err)
			}
			if err := s.Complete(testContext(t, 10*time.Second), k, live, time.Hour); err != nil {
				t.Fatalf("live Complete after a stale %s: %v", tc.op, err)
			}
			mustClaim(t, s, k, time.Minute, ports.ClaimDone)
		})
	}
}

// staleIsClaimLost has a second consumer take k over, then checks that op
// with the first consumer's stale token fails with ErrClaimLost; it returns
// the live holder's token.
func staleIsClaimLost(t *testing.T, s ports.DedupStore, k ports.DedupKey, op string, do func(ctx context.Context, stale string) error) string {
	t.Helper()
	stale, live := takeOver(t, s, k)
	if err := do(testContext(t, 10*time.Second), stale); !errors.Is(err, ports.ErrClaimLost) {
		t.Fatalf("stale %s = %v, want ErrClaimLost", op, err)
	}
	return live
}
