package porttest

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// RunOrderCache runs the ports.OrderCache contract against the caches that
// newCache returns: one fresh, empty cache per subtest, isolated from every
// other (a unique key prefix on a shared server is enough).
func RunOrderCache(t *testing.T, newCache func(t *testing.T) ports.OrderCache) {
	runContract(t, newCache, []contractCase[ports.OrderCache]{
		{"GetUnknownIsMiss", testCacheMiss},
		{"PutThenGetRoundTrip", testCacheRoundTrip},
		{"EntryOlderThanAskedIsMiss", testCacheAtLeast},
		{"OlderPutNeverReplacesNewer", testCacheVersionGuard},
		{"ConcurrentPutsKeepNewest", testCacheConcurrentPuts},
		{"InvalidateDropsEntry", testCacheInvalidate},
	})
	t.Run("NewCacheSeesNothingOfAnother", func(t *testing.T) { testCacheIsolation(t, newCache) })
}

func mustPut(t *testing.T, c ports.OrderCache, s ports.OrderSummary) {
	t.Helper()
	if err := c.Put(t.Context(), s); err != nil {
		t.Fatalf("Put(%s v%d): %v", s.OrderID, s.Version, err)
	}
}

func expectMiss(t *testing.T, c ports.OrderCache, id string, atLeast int64) {
	t.Helper()
	got, err := c.Get(t.Context(), id, atLeast)
	if !errors.Is(err, ports.ErrCacheMiss) {
		t.Fatalf("Get(%s, %d) = v%d, %v; want ErrCacheMiss", id, atLeast, got.Version, err)
	}
}

func expectHit(t *testing.T, c ports.OrderCache, id string, atLeast int64) ports.OrderSummary {
	t.Helper()
	got, err := c.Get(t.Context(), id, atLeast)
	if err != nil {
		t.Fatalf("Get(%s, %d): %v", id, atLeast, err)
	}
	return got
}

func testCacheMiss(t *testing.T, c ports.OrderCache) {
	expectMiss(t, c, uuid.NewString(), 0)
}

func testCacheRoundTrip(t *testing.T, c ports.OrderCache) {
	s := newSummary("cust-cache", "shipped", baseTime)
	s.Version = 4
	s.Carrier, s.TrackingNumber = "DHL", "JD0123"
	s.CancellationReason = "kept for the round trip"
	mustPut(t, c, s)
	checkSummary(t, expectHit(t, c, s.OrderID, 0), s)
}

func testCacheAtLeast(t *testing.T, c ports.OrderCache) {
	s := newSummary("cust-cache", "confirmed", baseTime)
	s.Version = 3
	mustPut(t, c, s)
	for _, atLeast := range []int64{0, 1, 3} {
		if got := expectHit(t, c, s.OrderID, atLeast); got.Version != 3 {
			t.Fatalf("Get(atLeast %d) = v%d, want v3", atLeast, got.Version)
		}
	}
	expectMiss(t, c, s.OrderID, 4)
}

func testCacheVersionGuard(t *testing.T, c ports.OrderCache) {
	s := newSummary("cust-cache", "confirmed", baseTime)
	s.Version = 3
	mustPut(t, c, s)

	older := s
	older.Version, older.Status = 2, "placed"
	mustPut(t, c, older)
	same := s
	same.Status = "not what version 3 says"
	mustPut(t, c, same)
	checkSummary(t, expectHit(t, c, s.OrderID, 0), s)

	newer := s
	newer.Version, newer.Status = 4, "cancelled"
	mustPut(t, c, newer)
	checkSummary(t, expectHit(t, c, s.OrderID, 0), newer)
}

func testCacheConcurrentPuts(t *testing.T, c ports.OrderCache) {
	const versions, writers = 40, 8
	base := newSummary("cust-cache", "placed", baseTime)
	order := rand.Perm(versions)
	var wg sync.WaitGroup
	errs := make(chan error, versions)
	next := make(chan int)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s := base
				s.Version = int64(i + 1)
				if err := c.Put(t.Context(), s); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, i := range order {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Put: %v", err)
	}
	if got := expectHit(t, c, base.OrderID, 0); got.Version != versions {
		t.Fatalf("after concurrent puts the cache holds v%d, want v%d", got.Version, versions)
	}
}

func testCacheInvalidate(t *testing.T, c ports.OrderCache) {
	s := newSummary("cust-cache", "confirmed", baseTime)
	s.Version = 2
	other := newSummary("cust-cache", "placed", baseTime)
	mustPut(t, c, s)
	mustPut(t, c, other)
	if err := c.Invalidate(t.Context(), s.OrderID); err != nil {
		t.Fatalf("Invalidate: %v", err)
	}
	expectMiss(t, c, s.OrderID, 0)
	checkSummary(t, expectHit(t, c, other.OrderID, 0), other)
	if err := c.Invalidate(t.Context(), uuid.NewString()); err != nil {
		t.Fatalf("Invalidate of an unknown order: %v", err)
	}
	// After an invalidation any version may fill the entry again.
	s.Version = 1
	mustPut(t, c, s)
	checkSummary(t, expectHit(t, c, s.OrderID, 1), s)
}

func testCacheIsolation(t *testing.T, newCache func(t *testing.T) ports.OrderCache) {
	a, b := newCache(t), newCache(t)
	s := newSummary("cust-cache", "placed", baseTime)
	mustPut(t, a, s)
	expectMiss(t, b, s.OrderID, 0)
}
