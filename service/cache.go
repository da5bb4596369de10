package service

import (
	"log/slog"

	"github.com/orderflow/orderflow/adapters/prommetrics"
	"github.com/orderflow/orderflow/adapters/redis"
	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
)

// openCache returns the read cache the configuration asks for, counted in
// reg, and the function that closes it; nil and a no-op without a URL. It
// never fails because Redis is down: reads then go to the read model.
func openCache(cfg Config, reg prometheus.Registerer, logger *slog.Logger) (ports.OrderCache, func() error, error) {
	if cfg.CacheRedisURL == "" {
		return nil, func() error { return nil }, nil
	}
	rc, err := redis.NewOrderCache(redis.OrderCacheConfig{URL: cfg.CacheRedisURL, KeyPrefix: cfg.CacheKeyPrefix, TTL: cfg.CacheTTL})
	if err != nil {
		return nil, nil, err
	}
	counted, err := prommetrics.NewOrderCache(rc, "order_summary", reg)
	if err != nil {
		_ = rc.Close()
		return nil, nil, err
	}
	logger.Info("read cache on", "cache", "redis", "key_prefix", cfg.CacheKeyPrefix, "ttl", cfg.CacheTTL)
	return counted, rc.Close, nil
}
