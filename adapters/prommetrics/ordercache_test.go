package prommetrics_test

import (
	"errors"
	"net"
	"testing"

	"github.com/orderflow/orderflow/adapters/prommetrics"
	"github.com/orderflow/orderflow/adapters/redis"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/ports/porttest"
	"github.com/prometheus/client_golang/prometheus"
)

// newCounted is the cache as the service wires it: Redis, counted.
func newCounted(t *testing.T, url string) (*prommetrics.OrderCache, *prometheus.Registry) {
	t.Helper()
	rc, err := redis.NewOrderCache(redis.OrderCacheConfig{URL: url, KeyPrefix: testenv.RedisKeyPrefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Close() })
	reg := prometheus.NewRegistry()
	c, err := prommetrics.NewOrderCache(rc, "order_summary", reg)
	if err != nil {
		t.Fatal(err)
	}
	return c, reg
}

func TestOrderCacheContract(t *testing.T) {
	porttest.RunOrderCache(t, func(t *testing.T) ports.OrderCache {
		c, _ := newCounted(t, testenv.RedisURL())
		return c
	})
}

func TestOrderCacheCountsHitsMissesAndErrors(t *testing.T) {
	c, reg := newCounted(t, testenv.RedisURL())
	s := ports.OrderSummary{OrderID: "0193a1b2-0000-7000-8000-00000000000a", Version: 2}
	if err := c.Put(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	for _, atLeast := range []int64{0, 2, 3, 3} { // two hits, two misses (too old)
		_, _ = c.Get(t.Context(), s.OrderID, atLeast)
	}
	_, _ = c.Get(t.Context(), "0193a1b2-0000-7000-8000-00000000000b", 0) // a third miss (absent)
	checkCounts(t, reg, map[string]float64{"hit": 2, "miss": 3})

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "redis://" + l.Addr().String() + "/0"
	l.Close()
	dead, deadReg := newCounted(t, down)
	if _, err := dead.Get(t.Context(), s.OrderID, 0); err == nil || errors.Is(err, ports.ErrCacheMiss) {
		t.Fatalf("Get on a dead Redis: %v", err)
	}
	_ = dead.Put(t.Context(), s)
	_ = dead.Invalidate(t.Context(), s.OrderID)
	checkCounts(t, deadReg, map[string]float64{"error": 1})
	if got := count(t, deadReg, "orderflow_cache_write_errors_total", "op"); got["put"] != 1 || got["invalidate"] != 1 {
		t.Fatalf("write errors %v, want one put and one invalidate", got)
	}
}

func checkCounts(t *testing.T, reg *prometheus.Registry, want map[string]float64) {
	t.Helper()
	got := count(t, reg, "orderflow_cache_requests_total", "result")
	for _, result := range []string{"hit", "miss", "error"} {
		if got[result] != want[result] {
			t.Fatalf("cache requests %v, want %v", got, want)
		}
	}
}

// count reads a counter vector from reg, by the value of one label.
func count(t *testing.T, reg *prometheus.Registry, name, label string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label {
					got[lp.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return got
}
