package redis_test

import (
	"errors"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/redis"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/ports/porttest"
)

func TestOrderCacheContract(t *testing.T) {
	porttest.RunOrderCache(t, func(t *testing.T) ports.OrderCache {
		return newCache(t, testenv.RedisURL())
	})
}

func newCache(t *testing.T, url string) *redis.OrderCache {
	t.Helper()
	c, err := redis.NewOrderCache(redis.OrderCacheConfig{URL: url, KeyPrefix: testenv.RedisKeyPrefix(t), Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

// redisAt returns the test Redis URL with its host:port replaced by addr.
func redisAt(t *testing.T, addr string) string {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// redisHost is the host:port of the test Redis.
func redisHost(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// hangGuard bounds a call that must fail fast: Timeout is 200ms, so 5s means
// the client hung, not that it was slow.
const hangGuard = 5 * time.Second

func expectError(t *testing.T, what string, call func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, ports.ErrCacheMiss) {
			t.Fatalf("%s: %v, want a connection error", what, err)
		}
	case <-time.After(hangGuard):
		t.Fatalf("%s hung while Redis was unreachable", what)
	}
}

func TestOrderCacheRedisRefusingConnections(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more: connections are refused
	c := newCache(t, redisAt(t, addr))
	s := ports.OrderSummary{OrderID: "0193a1b2-0000-7000-8000-000000000001", Version: 1}
	for range 3 { // and again once the client's dial breaker is open
		expectError(t, "Get", func() error { _, err := c.Get(t.Context(), s.OrderID, 0); return err })
		expectError(t, "Put", func() error { return c.Put(t.Context(), s) })
		expectError(t, "Invalidate", func() error { return c.Invalidate(t.Context(), s.OrderID) })
		expectError(t, "Ping", func() error { return c.Ping(t.Context()) })
	}
}

// TestOrderCacheThroughOutages runs the cache through a proxy to the real
// Redis that is stopped (refusing), started, and stalled (accepting but
// never answering): every call fails fast while Redis is out of reach, and
// the cache works again once it is back, with what it held before.
func TestOrderCacheThroughOutages(t *testing.T) {
	proxy := testenv.StartTCPProxy(t, redisHost(t))
	c := newCache(t, redisAt(t, proxy.Addr()))
	s := ports.OrderSummary{OrderID: "0193a1b2-0000-7000-8000-000000000002", Status: "placed", Version: 1}
	if err := c.Put(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	get := func() error { _, err := c.Get(t.Context(), s.OrderID, 1); return err }

	proxy.Stop()
	expectError(t, "Get with Redis down", get)
	expectError(t, "Put with Redis down", func() error { return c.Put(t.Context(), s) })
	proxy.Start()
	waitUntil(t, "the cache to answer after Redis came back", func() bool { return get() == nil })

	proxy.Stall(true)
	expectError(t, "Get with Redis stalled", get)
	expectError(t, "Put with Redis stalled", func() error { return c.Put(t.Context(), s) })
	proxy.Stall(false)
	waitUntil(t, "the cache to answer after the stall", func() bool { return get() == nil })
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
