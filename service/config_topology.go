package service

import (
	"errors"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/defaults"
	"github.com/orderflow/orderflow/router"
)

// TopologyConfig is how one process fits into a deployment of several: the
// roles it runs and the shared read cache.
type TopologyConfig struct {
	// Roles is a comma-separated list of router roles, or "all".
	Roles string
	// CacheRedisURL enables the Redis read cache of GET /v1/orders/{id}.
	CacheRedisURL string
	// CacheKeyPrefix starts every cache key (one per deployment).
	CacheKeyPrefix string
	// CacheTTL bounds how long a cache entry lives.
	CacheTTL time.Duration
}

// roles returns the parsed roles; Validate has checked them.
func (c TopologyConfig) roles() router.Roles {
	rs, _ := router.ParseRoles(c.Roles)
	return rs
}

func (c *TopologyConfig) setDefaults() {
	defaults.Set(&c.Roles, "all")
	defaults.Set(&c.CacheKeyPrefix, "orderflow:")
	defaults.Set(&c.CacheTTL, 10*time.Minute)
}

func (c TopologyConfig) validate() []error {
	var errs []error
	if _, err := router.ParseRoles(c.Roles); err != nil {
		errs = append(errs, errors.New("--roles: "+err.Error()))
	}
	if u := c.CacheRedisURL; u != "" && !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://") {
		errs = append(errs, errors.New("--cache-redis-url must be a redis:// or rediss:// URL"))
	}
	if c.CacheTTL <= 0 {
		errs = append(errs, errors.New("--cache-ttl must be positive"))
	}
	return errs
}
