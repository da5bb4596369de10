package porttest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// RunCheckoutStore runs the ports.CheckoutStore contract: one fresh, empty
// store per subtest.
func RunCheckoutStore(t *testing.T, newStore func(t *testing.T) ports.CheckoutStore) {
	runContract(t, newStore, []contractCase[ports.CheckoutStore]{
		{"SaveGetRoundTrip", testCheckoutRoundTrip},
		{"StaleSaveConflicts", testCheckoutStale},
		{"SaveManyInsertsAndUpdates", testCheckoutSaveMany},
		{"ConcurrentFirstSaveOneWins", testCheckoutInsertRace},
		{"UnknownIsNotFound", testCheckoutNotFound},
		{"DueByDeadlineAndState", testCheckoutDue},
		{"InStateListsByOrderID", testCheckoutInState},
		{"ClaimLeasesTheRunnable", testCheckoutClaim},
		{"ConcurrentClaimsTakeDifferentCheckouts", testCheckoutClaimRace},
	})
}

func newCheckout(deadline time.Time) ports.Checkout {
	start := deadline.Add(-30 * time.Second)
	return ports.Checkout{
		OrderID: uuid.NewString(), State: "reserving",
		Steps:     []ports.CheckoutStep{{Step: "start", Status: "done", At: start}},
		StartedAt: start, DeadlineAt: deadline, UpdatedAt: start, Version: 1,
	}
}

func testCheckoutRoundTrip(t *testing.T, s ports.CheckoutStore) {
	ctx := testContext(t, visibilityTimeout)
	now := time.Now().UTC().Truncate(time.Microsecond)
	c := newCheckout(now)
	if err := s.Save(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.State, c.Reason, c.AuthorizationID, c.Version = "cancelled", "payment_declined", "auth_1", 2
	c.Steps = append(c.Steps, ports.CheckoutStep{Step: "authorize", Status: "failed", At: now, Detail: "card_declined"})
	c.Compensations = []ports.CheckoutStep{{Step: "release_inventory", Status: "done", At: now}}
	c.UpdatedAt = now
	if err := s.Save(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, c.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("got  %+v\nwant %+v", got, c)
	}
}

// testCheckoutSaveMany: SaveMany saves new checkouts and moves others on,
// each as Save would (a round trip of every field, a NULL next attempt
// kept NULL); one not at the version before its own is ErrConcurrency.
func testCheckoutSaveMany(t *testing.T, s ports.CheckoutStore) {
	ctx := testContext(t, visibilityTimeout)
	now := time.Now().UTC().Truncate(time.Microsecond)
	old1, old2 := newCheckout(now), newCheckout(now)
	for _, c := range []ports.Checkout{old1, old2} {
		if err := s.Save(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	fresh := newCheckout(now.Add(time.Minute))
	fresh.NextAttemptAt = now.Add(10 * time.Second)
	old1.Compensations, fresh.Compensations = []ports.CheckoutStep{}, []ports.CheckoutStep{} // as Get reads an empty log
	old1.State, old1.AuthorizationID, old1.Attempts, old1.Version = "confirming", "auth_1", 2, 2
	old1.Steps = append(old1.Steps, ports.CheckoutStep{Step: "authorize", Status: "done", At: now, Detail: "ok"})
	old1.NextAttemptAt, old1.UpdatedAt = now.Add(time.Second), now
	old2.State, old2.Reason, old2.ResumeState, old2.ResumeReason, old2.Version = "cancelled", "out_of_stock", "reserving", "paused", 2
	old2.Compensations = []ports.CheckoutStep{{Step: "release_inventory", Status: "done", At: now}}
	if err := s.SaveMany(ctx, []ports.Checkout{old1, fresh, old2}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []ports.Checkout{old1, fresh, old2} {
		got, err := s.Get(ctx, want.OrderID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %+v, %v\nwant %+v", got, err, want)
		}
	}
	stale := old2 // at 2 already
	old1.Version = 3
	if err := s.SaveMany(ctx, []ports.Checkout{old1, stale}); !errors.Is(err, ports.ErrConcurrency) {
		t.Fatalf("a stale checkout in SaveMany: %v, want ErrConcurrency", err)
	}
	if err := s.SaveMany(ctx, []ports.Checkout{newCheckout(now), fresh}); !errors.Is(err, ports.ErrConcurrency) {
		t.Fatalf("a second insert in SaveMany: %v, want ErrConcurrency", err)
	}
}

func testCheckoutStale(t *testing.T, s ports.CheckoutStore) {
	ctx := testContext(t, visibilityTimeout)
	c := newCheckout(time.Now())
	if err := s.Save(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, c); !errors.Is(err, ports.ErrConcurrency) {
		t.Fatalf("second insert: %v, want ErrConcurrency", err)
	}
	c.Version = 3 // skips 2
	if err := s.Save(ctx, c); !errors.Is(err, ports.ErrConcurrency) {
		t.Fatalf("save at 3 over 1: %v, want ErrConcurrency", err)
	}
	got, err := s.Get(ctx, c.OrderID)
	if err != nil || got.Version != 1 {
		t.Fatalf("after refused saves: version %d, %v", got.Version, err)
	}
}

func testCheckoutInsertRace(t *testing.T, s ports.CheckoutStore) {
	ctx := testContext(t, visibilityTimeout)
	c := newCheckout(time.Now())
	errs := race(8, func(i int) error {
		cc := c
		cc.Reason = uuid.NewString()
		return s.Save(ctx, cc)
	})
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if !errors.Is(err, ports.ErrConcurrency) {
			t.Errorf("unexpected error %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d first saves won, want 1", wins)
	}
}

func testCheckoutNotFound(t *testing.T, s ports.CheckoutStore) {
	if _, err := s.Get(testContext(t, visibilityTimeout), uuid.NewString()); !errors.Is(err, ports.ErrCheckoutNotFound) {
		t.Fatalf("err = %v, want ErrCheckoutNotFound", err)
	}
}

func testCheckoutDue(t *testing.T, s ports.CheckoutStore) {
	ctx := testContext(t, visibilityTimeout)
	now := time.Now().UTC()
	early, late, future, done := newCheckout(now.Add(-2*time.Minute)), newCheckout(now.Add(-time.Minute)),
		newCheckout(now.Add(time.Minute)), newCheckout(now.Add(-3*time.Minute))
	late.State = "authorizing"
	done.State = "cancelled"
	for _, c := range []ports.Checkout{late, future, done, early} {
		if err := s.Save(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Due(ctx, now, []string{"reserving", "authorizing"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{early.OrderID, late.OrderID}; !reflect.DeepEqual(got, want) {
		t.Fatalf("due %v, want %v (earliest first, none in the future or finished)", got, want)
	}
	if got, err := s.Due(ctx, now, []string{"reserving", "authorizing"}, 1); err != nil || len(got) != 1 {
		t.Fatalf("limit 1: %v, %v", got, err)
	}
}

// testCheckoutInState: the checkouts in one state, paged by order id, with
// what a parked one resumes with.
func testCheckoutInState(t *testing.T, s ports.CheckoutStore) {
	ctx := testContext(t, visibilityTimeout)
	now := time.Now().UTC().Truncate(time.Microsecond)
	var parked []ports.Checkout
	for i := range 3 {
		c := newCheckout(now)
		c.State, c.Reason, c.ResumeState, c.ResumeReason = "parked", "parked: stuck", "compensating", "out_of_stock: SKU-1"
		if i == 1 {
			c.State, c.ResumeState, c.ResumeReason = "reserving", "", ""
		} else {
			parked = append(parked, c)
		}
		if err := s.Save(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	slices.SortFunc(parked, func(a, b ports.Checkout) int { return strings.Compare(a.OrderID, b.OrderID) })
	first, err := s.InState(ctx, "parked", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || first[0].OrderID != parked[0].OrderID || first[0].Reason != parked[0].Reason ||
		first[0].ResumeState != "compensating" || first[0].ResumeReason != "out_of_stock: SKU-1" {
		t.Fatalf("first page = %+v, want %+v", first, parked[:1])
	}
	rest, err := s.InState(ctx, "parked", first[0].OrderID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 1 || rest[0].OrderID != parked[1].OrderID {
		t.Fatalf("second page = %+v, want %s", rest, parked[1].OrderID)
	}
	if none, err := s.InState(ctx, "confirmed", "", 10); err != nil || len(none) != 0 {
		t.Fatalf("no checkout confirmed: %v, %v", none, err)
	}
}

// testCheckoutClaim: a claim takes the checkouts of its state whose next
// attempt has come, earliest first, and leases them until the time it
// gives, without a new version.
func testCheckoutClaim(t *testing.T, s ports.CheckoutStore) {
	ctx := testContext(t, visibilityTimeout)
	now := time.Now().UTC().Truncate(time.Microsecond)
	first, second, unset, other, later := newCheckout(now.Add(time.Minute)), newCheckout(now.Add(time.Minute)),
		newCheckout(now.Add(time.Minute)), newCheckout(now.Add(time.Minute)), newCheckout(now.Add(time.Minute))
	first.NextAttemptAt, second.NextAttemptAt = now.Add(-2*time.Second), now.Add(-time.Second)
	other.State, other.NextAttemptAt = "authorizing", now.Add(-3*time.Second)
	later.NextAttemptAt = now.Add(time.Hour)
	for _, c := range []ports.Checkout{second, unset, other, later, first} {
		if err := s.Save(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	until := now.Add(10 * time.Second)
	got, err := s.Claim(ctx, []string{"reserving"}, now, until, 10)
	want := []string{first.OrderID, second.OrderID}
	slices.Sort(got)
	slices.Sort(want)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("claimed %v, %v; want %v (the due ones of the state)", got, err, want)
	}
	c, err := s.Get(ctx, first.OrderID)
	if err != nil || c.Version != 1 || !c.NextAttemptAt.Equal(until) {
		t.Fatalf("claimed checkout: version %d, next attempt %v, %v; want version 1, %v", c.Version, c.NextAttemptAt, err, until)
	}
	if got, err := s.Claim(ctx, []string{"reserving"}, now, until, 10); err != nil || len(got) != 0 {
		t.Fatalf("claimed %v, %v during the lease; want none", got, err)
	}
	// The earliest first: limit 1 takes the one due first.
	if got, err := s.Claim(ctx, []string{"reserving"}, until, until.Add(10*time.Second), 1); err != nil || len(got) != 1 {
		t.Fatalf("after the lease, limit 1: %v, %v", got, err)
	}
	third := newCheckout(now.Add(time.Minute))
	third.NextAttemptAt = now.Add(-5 * time.Second)
	if err := s.Save(ctx, third); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Claim(ctx, []string{"reserving"}, now, until, 1); err != nil || !reflect.DeepEqual(got, []string{third.OrderID}) {
		t.Fatalf("limit 1: %v, %v; want the earliest due, %s", got, err, third.OrderID)
	}
	// Over several states, the earliest due of them all first.
	fourth := newCheckout(now.Add(time.Minute))
	fourth.NextAttemptAt = now.Add(-time.Second)
	if err := s.Save(ctx, fourth); err != nil {
		t.Fatal(err)
	}
	both := []string{"reserving", "authorizing"}
	if got, err := s.Claim(ctx, both, now, until, 1); err != nil || !reflect.DeepEqual(got, []string{other.OrderID}) {
		t.Fatalf("two states, limit 1: %v, %v; want the earliest due of both, %s", got, err, other.OrderID)
	}
	if got, err := s.Claim(ctx, both, now, until, 10); err != nil || !reflect.DeepEqual(got, []string{fourth.OrderID}) {
		t.Fatalf("two states: %v, %v; want the one left due, %s", got, err, fourth.OrderID)
	}
}

// testCheckoutClaimRace: claims racing over the same checkouts share them
// out, each claimed once.
func testCheckoutClaimRace(t *testing.T, s ports.CheckoutStore) {
	ctx := testContext(t, visibilityTimeout)
	now := time.Now().UTC().Truncate(time.Microsecond)
	const n, claimers = 12, 4
	for i := range n {
		c := newCheckout(now.Add(time.Minute))
		c.NextAttemptAt = now.Add(-time.Duration(i+1) * time.Millisecond)
		if err := s.Save(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	results := make([][]string, claimers)
	errs := make([]error, claimers)
	done := make(chan int)
	for i := range claimers {
		go func() {
			results[i], errs[i] = s.Claim(ctx, []string{"reserving"}, now, now.Add(time.Minute), n/claimers)
			done <- i
		}()
	}
	seen := map[string]bool{}
	for range claimers {
		i := <-done
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, id := range results[i] {
			if seen[id] {
				t.Fatalf("%s claimed twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != n {
		t.Fatalf("%d checkouts claimed, want all %d", len(seen), n)
	}
}
