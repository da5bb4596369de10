package porttest

import (
	"bytes"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// RunIdempotencyStore runs the ports.IdempotencyStore contract against the
// stores that newStore returns: one fresh, empty store per subtest.
func RunIdempotencyStore(t *testing.T, newStore func(t *testing.T) ports.IdempotencyStore) {
	runContract(t, newStore, []contractCase[ports.IdempotencyStore]{
		{"ReserveCompleteReplay", testIdemReplay},
		{"InFlightIsReported", testIdemInFlight},
		{"ReleaseForgets", testIdemRelease},
		{"ExpiredLockIsTakenOver", testIdemLockExpiry},
		{"ExpiredKeyIsNew", testIdemTTL},
		{"ConcurrentReserveOneWins", testIdemConcurrent},
		{"ReservationsCarryTheirOwnTokens", testIdemTokens},
		{"FormerHolderCannotCompleteOrRelease", testIdemFormerHolder},
		{"CompletedKeyIsNotReleased", testIdemCompletedKept},
	})
}

func reserve(t *testing.T, s ports.IdempotencyStore, key, fp string, lock, ttl time.Duration) (ports.IdempotencyRecord, bool) {
	t.Helper()
	rec, ok, err := s.Reserve(testContext(t, 10*time.Second), key, fp, lock, ttl)
	if err != nil {
		t.Fatalf("Reserve(%s): %v", key, err)
	}
	return rec, ok
}

func testIdemReplay(t *testing.T, s ports.IdempotencyStore) {
	key := uuid.NewString()
	first, ok := reserve(t, s, key, "fp-1", time.Minute, time.Hour)
	if !ok {
		t.Fatal("first Reserve did not reserve")
	}
	resp := ports.StoredResponse{Status: 201, Header: map[string]string{"Content-Type": "application/json", "Location": "/v1/orders/x"}, Body: []byte(`{"a":1}`)}
	if err := s.Complete(testContext(t, 10*time.Second), key, first.Token, resp); err != nil {
		t.Fatal(err)
	}
	rec, ok := reserve(t, s, key, "fp-2", time.Minute, time.Hour)
	if ok {
		t.Fatal("Reserve of a completed key reserved it again")
	}
	if rec.Key != key || rec.Fingerprint != "fp-1" || rec.Response == nil {
		t.Fatalf("record = %+v, want key %s, fingerprint fp-1 and a response", rec, key)
	}
	got := *rec.Response
	if got.Status != resp.Status || !reflect.DeepEqual(got.Header, resp.Header) || !bytes.Equal(got.Body, resp.Body) {
		t.Fatalf("stored response = %+v, want %+v", got, resp)
	}
}

func testIdemInFlight(t *testing.T, s ports.IdempotencyStore) {
	key := uuid.NewString()
	reserve(t, s, key, "fp", time.Minute, time.Hour)
	rec, ok := reserve(t, s, key, "fp", time.Minute, time.Hour)
	if ok || rec.Response != nil || rec.Fingerprint != "fp" {
		t.Fatalf("second Reserve = %+v, %v; want the in-flight record, not reserved", rec, ok)
	}
}

func testIdemRelease(t *testing.T, s ports.IdempotencyStore) {
	key := uuid.NewString()
	rec, _ := reserve(t, s, key, "fp", time.Minute, time.Hour)
	if err := s.Release(testContext(t, 10*time.Second), key, rec.Token); err != nil {
		t.Fatal(err)
	}
	if _, ok := reserve(t, s, key, "fp-other", time.Minute, time.Hour); !ok {
		t.Fatal("Reserve after Release did not reserve")
	}
	if err := s.Release(testContext(t, 10*time.Second), uuid.NewString(), uuid.NewString()); err != nil {
		t.Fatalf("Release of an absent key: %v", err)
	}
}

func testIdemLockExpiry(t *testing.T, s ports.IdempotencyStore) {
	key := uuid.NewString()
	reserve(t, s, key, "fp", 50*time.Millisecond, time.Hour)
	waitFor(t, 10*time.Second, "the lock to run out", func() (bool, error) {
		_, ok, err := s.Reserve(testContext(t, 10*time.Second), key, "fp2", time.Minute, time.Hour)
		return ok, err
	})
	rec, ok := reserve(t, s, key, "fp3", time.Minute, time.Hour)
	if ok || rec.Fingerprint != "fp2" {
		t.Fatalf("after takeover Reserve = %+v, %v; want held with fingerprint fp2", rec, ok)
	}
}

func testIdemTTL(t *testing.T, s ports.IdempotencyStore) {
	key := uuid.NewString()
	rec, _ := reserve(t, s, key, "fp", 50*time.Millisecond, 50*time.Millisecond)
	if err := s.Complete(testContext(t, 10*time.Second), key, rec.Token, ports.StoredResponse{Status: 200, Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the key to expire", func() (bool, error) {
		_, ok, err := s.Reserve(testContext(t, 10*time.Second), key, "fp-new", time.Minute, time.Hour)
		return ok, err
	})
}

func testIdemConcurrent(t *testing.T, s ports.IdempotencyStore) {
	key := uuid.NewString()
	const n = 16
	oks := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, oks[i], errs[i] = s.Reserve(testContext(t, 20*time.Second), key, "fp", time.Minute, time.Hour)
		})
	}
	wg.Wait()
	won := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("reserve %d: %v", i, errs[i])
		}
		if oks[i] {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent Reserves won, want exactly 1", won, n)
	}
}

func testIdemTokens(t *testing.T, s ports.IdempotencyStore) {
	a, _ := reserve(t, s, uuid.NewString(), "fp", time.Minute, time.Hour)
	b, _ := reserve(t, s, uuid.NewString(), "fp", time.Minute, time.Hour)
	if a.Token == "" || b.Token == "" || a.Token == b.Token {
		t.Fatalf("tokens %q and %q: want two distinct, non-empty owners", a.Token, b.Token)
	}
	held, ok := reserve(t, s, a.Key, "fp", time.Minute, time.Hour)
	if ok || held.Token != "" {
		t.Fatalf("Reserve of a held key = %+v, %v; want no token for a non-owner", held, ok)
	}
}

// testIdemFormerHolder: a holder whose lock ran out, and whose key another
// request took over, can neither complete nor release the new reservation.
func testIdemFormerHolder(t *testing.T, s ports.IdempotencyStore) {
	ctx := testContext(t, 20*time.Second)
	key := uuid.NewString()
	former, _ := reserve(t, s, key, "fp-old", 50*time.Millisecond, time.Hour)
	var current ports.IdempotencyRecord
	waitFor(t, 10*time.Second, "the lock to run out", func() (bool, error) {
		rec, ok, err := s.Reserve(ctx, key, "fp-new", time.Minute, time.Hour)
		current = rec
		return ok, err
	})
	err := s.Complete(ctx, key, former.Token, ports.StoredResponse{Status: 201, Body: []byte("old")})
	if !errors.Is(err, ports.ErrIdempotencyKeyLost) {
		t.Fatalf("Complete by the former holder = %v, want ErrIdempotencyKeyLost", err)
	}
	if err := s.Release(ctx, key, former.Token); err != nil {
		t.Fatalf("Release by the former holder: %v", err)
	}
	rec, ok := reserve(t, s, key, "fp-new", time.Minute, time.Hour)
	if ok || rec.Response != nil || rec.Fingerprint != "fp-new" {
		t.Fatalf("after the former holder's Complete and Release: %+v, %v; want the new holder's in-flight record", rec, ok)
	}
	if err := s.Complete(ctx, key, current.Token, ports.StoredResponse{Status: 201, Body: []byte("new")}); err != nil {
		t.Fatalf("Complete by the new holder: %v", err)
	}
	rec, _ = reserve(t, s, key, "fp-new", time.Minute, time.Hour)
	if rec.Response == nil || string(rec.Response.Body) != "new" {
		t.Fatalf("stored response = %+v, want the new holder's", rec.Response)
	}
	if err := s.Complete(ctx, key, current.Token, ports.StoredResponse{Status: 500}); !errors.Is(err, ports.ErrIdempotencyKeyLost) {
		t.Fatalf("second Complete = %v, want ErrIdempotencyKeyLost (a completed key is no reservation)", err)
	}
}

func testIdemCompletedKept(t *testing.T, s ports.IdempotencyStore) {
	ctx := testContext(t, 10*time.Second)
	rec, _ := reserve(t, s, uuid.NewString(), "fp", time.Minute, time.Hour)
	if err := s.Complete(ctx, rec.Key, rec.Token, ports.StoredResponse{Status: 200, Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, rec.Key, rec.Token); err != nil {
		t.Fatal(err)
	}
	if got, ok := reserve(t, s, rec.Key, "fp", time.Minute, time.Hour); ok || got.Response == nil {
		t.Fatalf("Release dropped a completed key: %+v, %v", got, ok)
	}
}
