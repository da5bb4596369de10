package e2e

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/redis"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/service"
)

// testRedisURL is the test Redis URL, parsed.
func testRedisURL(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// redisVia returns the test Redis URL with its host:port replaced by addr.
func redisVia(t *testing.T, addr string) string {
	t.Helper()
	u := testRedisURL(t)
	u.Host = addr
	return u.String()
}

// redisHostPort is the host:port of the test Redis.
func redisHostPort(t *testing.T) string {
	t.Helper()
	return testRedisURL(t).Host
}

// metricValue sums the samples of a metric whose labels contain every
// fragment, from the service's /metrics.
func metricValue(t *testing.T, base, name string, fragments ...string) float64 {
	t.Helper()
	r := do(t, "GET", base+"/metrics", nil)
	expectStatus(t, r, http.StatusOK)
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, f := range fragments {
			ok = ok && strings.Contains(line, f)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

func getOrder(t *testing.T, u string, headers ...string) (orderBody, response) {
	t.Helper()
	r := do(t, "GET", u, nil, headers...)
	var o orderBody
	if r.status == http.StatusOK {
		r.json(t, &o)
	}
	return o, r
}

// TestReadCache runs the service with the Redis cache behind a proxy it can
// cut: reads are served from the cache, an entry older than the client has
// seen is never served, the hit ratio is in /metrics, and with Redis down
// reads and writes go on and the service stays ready.
func TestReadCache(t *testing.T) {
	prefix := testenv.RedisKeyPrefix(t)
	proxy := testenv.StartTCPProxy(t, redisHostPort(t))
	cfg := service.Config{PostgresURL: testenv.PostgresURL(t)}
	cfg.CacheRedisURL, cfg.CacheKeyPrefix = redisVia(t, proxy.Addr()), prefix
	_, base := startMain(t, cfg)
	// Stock for the order's lines, so that checkout confirms it (version 2).
	setStock(t, base, "SKU-RED-MUG", 100)
	setStock(t, base, "SKU-TEA", 100)

	direct, err := redis.NewOrderCache(redis.OrderCacheConfig{URL: testenv.RedisURL(), KeyPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = direct.Close() })

	r := do(t, "POST", base+"/v1/orders", newOrder("cache-"+uuid.NewString()))
	expectStatus(t, r, http.StatusCreated)
	var placed orderBody
	r.json(t, &placed)
	orderURL := base + "/v1/orders/" + placed.OrderID
	waitFor(t, 30*time.Second, "checkout to confirm the order", func() bool {
		o, r := getOrder(t, orderURL+"?min_version=2")
		return r.status == http.StatusOK && o.Status == "confirmed"
	})
	if o, r := getOrder(t, orderURL+"?min_version=2"); r.status != http.StatusOK || o.Version != 2 {
		t.Fatalf("read your write: %d %s", r.status, r.body)
	}
	waitFor(t, 10*time.Second, "the projection to cache version 2", func() bool {
		s, err := direct.Get(t.Context(), placed.OrderID, 2)
		return err == nil && s.Status == "confirmed"
	})

	// Plant an entry older than the read model, marked so that a read
	// served from it shows.
	if err := direct.Invalidate(t.Context(), placed.OrderID); err != nil {
		t.Fatal(err)
	}
	old := ports.OrderSummary{OrderID: placed.OrderID, CustomerID: "from-the-cache", Status: "placed", Version: 1, Currency: "EUR"}
	if err := direct.Put(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	hits := metricValue(t, base, "orderflow_cache_requests_total", `result="hit"`)
	if o, _ := getOrder(t, orderURL); o.CustomerID != "from-the-cache" || o.Version != 1 {
		t.Fatalf("a read with no version asked was not served from the cache: %+v", o)
	}
	if got := metricValue(t, base, "orderflow_cache_requests_total", `result="hit"`); got != hits+1 {
		t.Fatalf("cache hits went from %v to %v, want one more", hits, got)
	}
	if _, r := getOrder(t, orderURL, "If-None-Match", `"2"`); r.status != http.StatusNotModified {
		t.Fatalf("If-None-Match \"2\" with version 1 cached: %d %s, want 304 from the read model", r.status, r.body)
	}
	if o, _ := getOrder(t, orderURL+"?min_version=2"); o.Version != 2 || o.CustomerID == "from-the-cache" {
		t.Fatalf("min_version=2 with version 1 cached served %+v", o)
	}
	if o, _ := getOrder(t, orderURL); o.Version != 2 || o.CustomerID == "from-the-cache" {
		t.Fatalf("the read model's answer did not replace the older entry: %+v", o)
	}
	if metricValue(t, base, "orderflow_cache_requests_total", `result="miss"`) == 0 {
		t.Fatal("no cache miss counted")
	}

	// Redis down: reads fall back, writes and the projection go on.
	proxy.Stop()
	if o, r := getOrder(t, orderURL); r.status != http.StatusOK || o.Version != 2 {
		t.Fatalf("read with Redis down: %d %s", r.status, r.body)
	}
	expectStatus(t, do(t, "POST", orderURL+"/cancel", map[string]any{"reason": "redis is down"}), http.StatusOK)
	if o, r := getOrder(t, orderURL+"?min_version=3"); r.status != http.StatusOK || o.Status != "cancelled" {
		t.Fatalf("read your write with Redis down: %d %s", r.status, r.body)
	}
	expectStatus(t, do(t, "GET", base+"/readyz", nil), http.StatusOK)
	if metricValue(t, base, "orderflow_cache_requests_total", `result="error"`) == 0 {
		t.Fatal("no cache error counted while Redis was down")
	}

	// Redis back: a client that saw version 3 never gets the entry the
	// outage left behind, and its read repairs the entry for everyone.
	proxy.Start()
	waitFor(t, 10*time.Second, "the cache to hold version 3", func() bool {
		o, r := getOrder(t, orderURL+"?min_version=3")
		if r.status != http.StatusOK || o.Version != 3 {
			t.Fatalf("after the outage: %d %s", r.status, r.body)
		}
		s, err := direct.Get(t.Context(), placed.OrderID, 3)
		return err == nil && s.Status == "cancelled"
	})
}

// TestReadCacheRefusingConnections: with a cache URL where nothing listens,
// the service starts, is ready, and serves every request from the store.
func TestReadCacheRefusingConnections(t *testing.T) {
	cfg := service.Config{PostgresURL: testenv.PostgresURL(t)}
	cfg.CacheRedisURL = redisVia(t, testenv.ClosedAddr(t))
	_, base := startMain(t, withoutSaga(cfg))

	expectStatus(t, do(t, "GET", base+"/readyz", nil), http.StatusOK)
	for range 5 {
		r := do(t, "POST", base+"/v1/orders", newOrder("refused-"+uuid.NewString()))
		expectStatus(t, r, http.StatusCreated)
		var placed orderBody
		r.json(t, &placed)
		if o, r := getOrder(t, base+"/v1/orders/"+placed.OrderID+"?min_version=1"); r.status != http.StatusOK || o.Version != 1 {
			t.Fatalf("read with the cache refusing: %d %s", r.status, r.body)
		}
	}
	if metricValue(t, base, "orderflow_cache_requests_total", `result="error"`) < 5 {
		t.Fatal("cache errors were not counted")
	}
}
