// Package redis is the Redis adapter: a look-aside cache of order summaries
// (ports.OrderCache) shared by every process of a deployment.
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/orderflow/orderflow/internal/defaults"
	"github.com/orderflow/orderflow/ports"
)

var _ ports.OrderCache = (*OrderCache)(nil)

// OrderCacheConfig configures NewOrderCache.
type OrderCacheConfig struct {
	// URL is a redis:// or rediss:// URL (go-redis ParseURL syntax).
	URL string
	// KeyPrefix starts every key, so that deployments (or tests) sharing one
	// Redis never see each other's entries. Default "orderflow:".
	KeyPrefix string
	// TTL bounds how long an entry lives. An entry is only left behind a
	// newer read model row when Redis failed both the update and the
	// invalidation of an event; TTL bounds how long such an entry can be
	// served to a client that asks for no particular version. Default 10m.
	TTL time.Duration
	// Timeout bounds every Redis call, so that a slow or unreachable Redis
	// costs a read at most this much before it falls back to the read model.
	// Default 200ms.
	Timeout time.Duration
}

func (c *OrderCacheConfig) setDefaults() {
	defaults.Set(&c.KeyPrefix, "orderflow:")
	defaults.Set(&c.TTL, 10*time.Minute)
	defaults.Set(&c.Timeout, 200*time.Millisecond)
}

// Validate reports bad settings.
func (c OrderCacheConfig) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("redis cache: URL is required"))
	}
	if c.TTL <= 0 || c.Timeout <= 0 {
		errs = append(errs, errors.New("redis cache: TTL and Timeout must be positive"))
	}
	return errors.Join(errs...)
}

// OrderCache keeps one Redis hash per order: its version (v) and its JSON
// encoding (d). Writes go through a Lua script that compares versions inside
// Redis, so an older version never replaces a newer one.
type OrderCache struct {
	client  *goredis.Client
	prefix  string
	ttl     time.Duration
	timeout time.Duration
}

// NewOrderCache connects lazily: it fails only on a bad configuration, never
// because Redis is down (the cache is optional at run time).
func NewOrderCache(cfg OrderCacheConfig) (*OrderCache, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opt, err := goredis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("redis cache: %w", err)
	}
	// Fail fast rather than retry: a miss costs one read model query, a
	// retry against a dead Redis costs every reader its latency.
	opt.DialTimeout = cfg.Timeout
	opt.ReadTimeout = cfg.Timeout
	opt.WriteTimeout = cfg.Timeout
	opt.PoolTimeout = cfg.Timeout
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1
	opt.DialerRetries = 1
	opt.DisableIdentity = true
	return &OrderCache{client: goredis.NewClient(opt), prefix: cfg.KeyPrefix, ttl: cfg.TTL, timeout: cfg.Timeout}, nil
}

// Ping reports whether Redis answers.
func (c *OrderCache) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.client.Ping(ctx).Err()
}

// Close closes the client's connections.
func (c *OrderCache) Close() error { return c.client.Close() }

func (c *OrderCache) key(orderID string) string {
	return c.prefix + "order_summary:v1:" + orderID
}

// get is Get without its span.
func (c *OrderCache) get(ctx context.Context, orderID string, atLeast int64) (ports.OrderSummary, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	vals, err := c.client.HMGet(ctx, c.key(orderID), "v", "d").Result()
	if err != nil {
		return ports.OrderSummary{}, fmt.Errorf("redis cache get %s: %w", orderID, err)
	}
	version, data, ok := entryOf(vals)
	if !ok || version < atLeast {
		return ports.OrderSummary{}, ports.ErrCacheMiss
	}
	var e entry
	if err := json.Unmarshal([]byte(data), &e); err != nil {
		return ports.OrderSummary{}, fmt.Errorf("redis cache get %s: %w", orderID, err)
	}
	s := e.summary()
	if s.Version != version {
		return ports.OrderSummary{}, fmt.Errorf("redis cache get %s: entry says version %d, hash %d", orderID, s.Version, version)
	}
	return s, nil
}

// entryOf reads HMGET v d; ok is false when the hash is missing or partial.
func entryOf(vals []any) (version int64, data string, ok bool) {
	if len(vals) != 2 {
		return 0, "", false
	}
	vs, ok1 := vals[0].(string)
	ds, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return 0, "", false
	}
	v, err := strconv.ParseInt(vs, 10, 64)
	if err != nil {
		return 0, "", false
	}
	return v, ds, true
}

// putScript stores the entry only if the stored version is older (or there
// is none). KEYS[1] the hash; ARGV version, JSON, TTL in milliseconds.
var putScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'v')
if cur and tonumber(cur) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

// put is Put without its span.
func (c *OrderCache) put(ctx context.Context, s ports.OrderSummary) error {
	data, err := json.Marshal(entryFrom(s))
	if err != nil {
		return fmt.Errorf("redis cache put %s: %w", s.OrderID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err = putScript.Run(ctx, c.client, []string{c.key(s.OrderID)}, s.Version, data, c.ttl.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("redis cache put %s: %w", s.OrderID, err)
	}
	return nil
}

// invalidate is Invalidate without its span.
func (c *OrderCache) invalidate(ctx context.Context, orderID string) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.client.Del(ctx, c.key(orderID)).Err(); err != nil {
		return fmt.Errorf("redis cache invalidate %s: %w", orderID, err)
	}
	return nil
}
