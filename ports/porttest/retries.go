package porttest

import (
	"bytes"
	"errors"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// RunRetryStore runs the ports.RetryStore contract against the stores that
// newStore returns: one fresh, empty store per subtest.
func RunRetryStore(t *testing.T, newStore func(t *testing.T) ports.RetryStore) {
	runContract(t, newStore, []contractCase[ports.RetryStore]{
		{"AddClaimRoundTrip", testRetryRoundTrip},
		{"NotDueIsNotClaimed", testRetryNotDue},
		{"AddKeepsTheFirstCopyPerHandler", testRetryAddTwice},
		{"ClaimOrderAndLimit", testRetryClaimOrder},
		{"ClaimHidesTheEntryForItsLease", testRetryLease},
		{"RescheduleRecordsTheAttempt", testRetryReschedule},
		{"DeleteNeedsTheToken", testRetryDelete},
		{"ConcurrentClaimsNeverShare", testRetryConcurrentClaims},
		{"PendingPerHandler", testRetryPending},
	})
}

const (
	retryHandler = "orderflow.saga.checkout.orders.v1"
	retryTopic   = "orderflow.order.events.v1"
)

func newRetrying(handler string) ports.RetryingMessage {
	return ports.RetryingMessage{
		ID:            uuid.Must(uuid.NewV7()).String(),
		MessageID:     uuid.NewString(),
		Topic:         retryTopic,
		Handler:       handler,
		Payload:       []byte{0xff, 0x00, '{'},
		Metadata:      map[string]string{"event_type": "order.placed.v1", "stream_id": "x"},
		Attempts:      1,
		LastError:     "payment provider unavailable",
		FirstFailedAt: baseTime,
	}
}

func sameRetrying(a, b ports.RetryingMessage) bool {
	return a.ID == b.ID && a.MessageID == b.MessageID && a.Topic == b.Topic && a.Handler == b.Handler &&
		bytes.Equal(a.Payload, b.Payload) && reflect.DeepEqual(a.Metadata, b.Metadata) &&
		a.Attempts == b.Attempts && a.LastError == b.LastError &&
		a.FirstFailedAt.Truncate(time.Millisecond).Equal(b.FirstFailedAt.Truncate(time.Millisecond))
}

func mustAddRetry(t *testing.T, s ports.RetryStore, m ports.RetryingMessage, delay time.Duration) {
	t.Helper()
	if err := s.Add(testContext(t, 10*time.Second), m, delay); err != nil {
		t.Fatal(err)
	}
}

func mustClaimRetries(t *testing.T, s ports.RetryStore, handler string, limit int, lease time.Duration) []ports.RetryingMessage {
	t.Helper()
	got, err := s.Claim(testContext(t, 10*time.Second), handler, limit, lease)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func testRetryRoundTrip(t *testing.T, s ports.RetryStore) {
	m := newRetrying(retryHandler)
	mustAddRetry(t, s, m, 0)
	got := mustClaimRetries(t, s, retryHandler, 10, time.Minute)
	if len(got) != 1 {
		t.Fatalf("Claim = %d entries, want 1", len(got))
	}
	if !sameRetrying(got[0], m) {
		t.Fatalf("Claim = %+v, want %+v", got[0], m)
	}
	if got[0].Token == "" {
		t.Fatal("a claimed entry has no token")
	}
	if other := mustClaimRetries(t, s, "orderflow.notifications.v1", 10, time.Minute); len(other) != 0 {
		t.Fatalf("another handler's Claim = %d entries, want 0", len(other))
	}
}

func testRetryNotDue(t *testing.T, s ports.RetryStore) {
	mustAddRetry(t, s, newRetrying(retryHandler), time.Hour)
	if got := mustClaimRetries(t, s, retryHandler, 10, time.Minute); len(got) != 0 {
		t.Fatalf("Claim of an entry due in an hour = %d entries, want 0", len(got))
	}
}

func testRetryAddTwice(t *testing.T, s ports.RetryStore) {
	m := newRetrying(retryHandler)
	mustAddRetry(t, s, m, 0)
	again := m
	again.ID = uuid.Must(uuid.NewV7()).String()
	again.LastError = "a redelivered copy failed too"
	mustAddRetry(t, s, again, 0)
	forOther := m
	forOther.ID = uuid.Must(uuid.NewV7()).String()
	forOther.Handler = "orderflow.notifications.v1"
	mustAddRetry(t, s, forOther, 0)

	got := mustClaimRetries(t, s, retryHandler, 10, time.Minute)
	if len(got) != 1 || !sameRetrying(got[0], m) {
		t.Fatalf("Claim = %+v, want only the first copy %+v", got, m)
	}
	if got := mustClaimRetries(t, s, forOther.Handler, 10, time.Minute); len(got) != 1 || got[0].ID != forOther.ID {
		t.Fatalf("the other handler's Claim = %+v, want its own copy", got)
	}
}

func testRetryClaimOrder(t *testing.T, s ports.RetryStore) {
	var ids []string
	for _, delay := range []time.Duration{-3 * time.Second, -2 * time.Second, -time.Second} {
		m := newRetrying(retryHandler)
		mustAddRetry(t, s, m, delay)
		ids = append(ids, m.ID)
	}
	got := mustClaimRetries(t, s, retryHandler, 2, time.Minute)
	gotIDs := []string{}
	for _, m := range got {
		gotIDs = append(gotIDs, m.ID)
	}
	sort.Strings(gotIDs)
	if want := ids[:2]; !reflect.DeepEqual(gotIDs, want) {
		t.Fatalf("Claim(limit 2) = %v, want the two longest due %v", gotIDs, want)
	}
	if rest := mustClaimRetries(t, s, retryHandler, 10, time.Minute); len(rest) != 1 || rest[0].ID != ids[2] {
		t.Fatalf("the next Claim = %+v, want only %s", rest, ids[2])
	}
}

func testRetryLease(t *testing.T, s ports.RetryStore) {
	mustAddRetry(t, s, newRetrying(retryHandler), 0)
	first := mustClaimRetries(t, s, retryHandler, 10, 200*time.Millisecond)
	if len(first) != 1 {
		t.Fatalf("Claim = %d entries, want 1", len(first))
	}
	if got := mustClaimRetries(t, s, retryHandler, 10, time.Minute); len(got) != 0 {
		t.Fatalf("a Claim during the lease = %d entries, want 0", len(got))
	}
	// Once the lease ends, the entry is claimable again, under a new token.
	deadline := time.Now().Add(visibilityTimeout)
	var second []ports.RetryingMessage
	for len(second) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the entry never came back after its lease ended")
		}
		time.Sleep(20 * time.Millisecond)
		second = mustClaimRetries(t, s, retryHandler, 10, time.Minute)
	}
	if second[0].ID != first[0].ID || second[0].Token == first[0].Token {
		t.Fatalf("reclaimed %s with token %q, want %s under a new token (was %q)",
			second[0].ID, second[0].Token, first[0].ID, first[0].Token)
	}
	ctx := testContext(t, 10*time.Second)
	if err := s.Delete(ctx, first[0].ID, first[0].Token); !errors.Is(err, ports.ErrRetryClaimLost) {
		t.Fatalf("Delete with the lapsed token = %v, want ErrRetryClaimLost", err)
	}
	if err := s.Reschedule(ctx, first[0].ID, first[0].Token, 5, "late", 0); !errors.Is(err, ports.ErrRetryClaimLost) {
		t.Fatalf("Reschedule with the lapsed token = %v, want ErrRetryClaimLost", err)
	}
	if err := s.Delete(ctx, second[0].ID, second[0].Token); err != nil {
		t.Fatalf("Delete by the new holder: %v", err)
	}
}

func testRetryReschedule(t *testing.T, s ports.RetryStore) {
	m := newRetrying(retryHandler)
	mustAddRetry(t, s, m, 0)
	c := mustClaimRetries(t, s, retryHandler, 10, time.Minute)
	ctx := testContext(t, 10*time.Second)
	if err := s.Reschedule(ctx, c[0].ID, c[0].Token, 2, "still down", time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := mustClaimRetries(t, s, retryHandler, 10, time.Minute); len(got) != 0 {
		t.Fatalf("Claim of an entry rescheduled an hour ahead = %d entries, want 0", len(got))
	}
	// Rescheduling ended the claim: the token is spent.
	if err := s.Reschedule(ctx, c[0].ID, c[0].Token, 3, "again", 0); !errors.Is(err, ports.ErrRetryClaimLost) {
		t.Fatalf("a second Reschedule with the same token = %v, want ErrRetryClaimLost", err)
	}
	n, err := s.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n[retryHandler] != 1 {
		t.Fatalf("Pending = %v, want 1 for %s", n, retryHandler)
	}

	m2 := newRetrying(retryHandler)
	mustAddRetry(t, s, m2, 0)
	c2 := mustClaimRetries(t, s, retryHandler, 10, time.Minute)
	if err := s.Reschedule(ctx, c2[0].ID, c2[0].Token, 2, "second failure", 0); err != nil {
		t.Fatal(err)
	}
	again := mustClaimRetries(t, s, retryHandler, 10, time.Minute)
	if len(again) != 1 || again[0].Attempts != 2 || again[0].LastError != "second failure" {
		t.Fatalf("after Reschedule, Claim = %+v, want attempts 2 and the new error", again)
	}
}

func testRetryDelete(t *testing.T, s ports.RetryStore) {
	mustAddRetry(t, s, newRetrying(retryHandler), 0)
	c := mustClaimRetries(t, s, retryHandler, 10, time.Minute)
	ctx := testContext(t, 10*time.Second)
	if err := s.Delete(ctx, c[0].ID, "not-the-token"); !errors.Is(err, ports.ErrRetryClaimLost) {
		t.Fatalf("Delete with a wrong token = %v, want ErrRetryClaimLost", err)
	}
	if err := s.Delete(ctx, c[0].ID, c[0].Token); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, c[0].ID, c[0].Token); !errors.Is(err, ports.ErrRetryClaimLost) {
		t.Fatalf("Delete of a deleted entry = %v, want ErrRetryClaimLost", err)
	}
	n, err := s.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(n) != 0 {
		t.Fatalf("Pending after Delete = %v, want none", n)
	}
}

func testRetryConcurrentClaims(t *testing.T, s ports.RetryStore) {
	const entries, claimers = 40, 4
	for range entries {
		mustAddRetry(t, s, newRetrying(retryHandler), 0)
	}
	ctx := testContext(t, 30*time.Second)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, claimers)
	for range claimers {
		wg.Go(func() {
			for {
				got, err := s.Claim(ctx, retryHandler, 3, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != entries {
		t.Fatalf("claimed %d distinct entries, want %d", len(seen), entries)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("entry %s claimed %d times", id, n)
		}
	}
}

func testRetryPending(t *testing.T, s ports.RetryStore) {
	for range 3 {
		mustAddRetry(t, s, newRetrying(retryHandler), time.Hour)
	}
	mustAddRetry(t, s, newRetrying("orderflow.notifications.v1"), 0)
	n, err := s.Pending(testContext(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{retryHandler: 3, "orderflow.notifications.v1": 1}; !reflect.DeepEqual(n, want) {
		t.Fatalf("Pending = %v, want %v", n, want)
	}
}
