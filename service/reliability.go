package service

import (
	"fmt"

	"github.com/orderflow/orderflow/adapters/redisinbox"
	"github.com/orderflow/orderflow/router"
	goredis "github.com/redis/go-redis/v9"
)

// routerReliability chooses the middleware stores of the router: the poison
// and retry queues always in the event store's database, deduplication as
// configured.
// The returned close releases what it opened (a Redis client).
func routerReliability(cfg Config, st *Adapters) (router.Reliability, func() error, error) {
	rel := router.Reliability{Poison: st.Poison, DedupRetention: cfg.Reliability.DedupRetention,
		MaxFailedDeliveries: cfg.Reliability.MaxFailedDeliveries, Retries: st.Retries,
		RetryBackoff: cfg.Reliability.RetryBackoff, MaxRetryBackoff: cfg.Reliability.MaxRetryBackoff}
	closer := func() error { return nil }
	switch cfg.Reliability.Dedup {
	case "store":
		rel.Dedup = st.Inbox
	case "redis":
		opts, err := goredis.ParseURL(cfg.Reliability.DedupRedisURL)
		if err != nil {
			return rel, closer, fmt.Errorf("--dedup-redis-url: %w", err)
		}
		client := goredis.NewClient(opts)
		rel.Dedup = redisinbox.New(client, "")
		closer = client.Close
	}
	return rel, closer, nil
}
