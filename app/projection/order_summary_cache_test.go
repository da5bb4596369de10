package projection_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/redis"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ports"
)

// stores returns a Postgres event store and read model on a fresh schema.
func stores(t *testing.T) (ports.EventStore, ports.OrderSummaryStore) {
	t.Helper()
	s := storetest.Postgres(t)
	return s.Events, s.Orders
}

func newCache(t *testing.T, url string) *redis.OrderCache {
	t.Helper()
	c, err := redis.NewOrderCache(redis.OrderCacheConfig{URL: url, KeyPrefix: testenv.RedisKeyPrefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// placeAndConfirm appends a placed and a confirmed event and returns them
// as recorded.
func placeAndConfirm(t *testing.T, es ports.EventStore) []ports.RecordedEvent {
	t.Helper()
	id := uuid.NewString()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var events []ports.NewEvent
	for _, e := range []order.Event{
		order.Placed{OrderID: id, CustomerID: "c-1", Currency: "EUR", Items: []order.Item{{SKU: "S", Quantity: 1, UnitPrice: 100}}, Total: 100, PlacedAt: at},
		order.Confirmed{OrderID: id, ConfirmedAt: at.Add(time.Minute)},
	} {
		data, err := order.EncodeEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ports.NewEvent{Type: e.EventType(), Data: data, Metadata: ports.EventMetadata{EventID: uuid.NewString(), OccurredAt: at}})
	}
	stream := ports.Stream{Type: order.AggregateType, ID: id}
	if _, err := es.Append(t.Context(), stream, ports.NoStream, events); err != nil {
		t.Fatal(err)
	}
	recorded, err := es.Load(t.Context(), stream, 1)
	if err != nil || len(recorded) != 2 {
		t.Fatalf("load: %v, %d events", err, len(recorded))
	}
	return recorded
}

func cached(t *testing.T, c ports.OrderCache, id string) ports.OrderSummary {
	t.Helper()
	s, err := c.Get(t.Context(), id, 0)
	if err != nil {
		t.Fatalf("cache Get(%s): %v", id, err)
	}
	return s
}

// TestProjectionKeepsCacheInStep: each applied event leaves the saved row in
// the cache, and a redelivered event repairs a cache that missed its update
// (a crash between the save and the cache write).
func TestProjectionKeepsCacheInStep(t *testing.T) {
	es, store := stores(t)
	cache := newCache(t, testenv.RedisURL())
	p := projection.NewOrderSummary(store, es).WithCache(cache)
	events := placeAndConfirm(t, es)
	id := events[0].Stream.ID

	if err := p.Handle(t.Context(), events[0]); err != nil {
		t.Fatal(err)
	}
	if s := cached(t, cache, id); s.Version != 1 || s.Status != "placed" || s.Total != 100 {
		t.Fatalf("after placed the cache holds %+v", s)
	}
	if err := p.Handle(t.Context(), events[1]); err != nil {
		t.Fatal(err)
	}
	if s := cached(t, cache, id); s.Version != 2 || s.Status != "confirmed" {
		t.Fatalf("after confirmed the cache holds %+v", s)
	}

	if err := cache.Invalidate(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if err := p.Handle(t.Context(), events[1]); err != nil {
		t.Fatal(err)
	}
	if s := cached(t, cache, id); s.Version != 2 {
		t.Fatalf("a redelivery did not repair the cache: %+v", s)
	}
}

// TestProjectionIgnoresDeadCache: with Redis unreachable, events are still
// applied to the read model and no error reaches the router.
func TestProjectionIgnoresDeadCache(t *testing.T) {
	es, store := stores(t)
	p := projection.NewOrderSummary(store, es).WithCache(newCache(t, "redis://"+testenv.ClosedAddr(t)+"/0"))
	events := placeAndConfirm(t, es)
	for _, e := range events {
		if err := p.Handle(t.Context(), e); err != nil {
			t.Fatalf("event v%d with the cache down: %v", e.Version, err)
		}
	}
	row, err := store.Get(t.Context(), events[0].Stream.ID)
	if err != nil || row.Version != 2 || row.Status != "confirmed" {
		t.Fatalf("read model %+v, %v", row, err)
	}
}
