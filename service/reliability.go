package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/redisinbox"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
	goredis "github.com/redis/go-redis/v9"
)

// routerReliability chooses the middleware stores of the router: the poison
// queue always in the event store's database, deduplication as configured.
// The returned close releases what it opened (a Redis client).
func routerReliability(cfg Config, st *Adapters) (router.Reliability, func() error, error) {
	rel := router.Reliability{Poison: st.Poison, DedupRetention: cfg.Reliability.DedupRetention}
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

// joinClose runs both closers, first a then b, and joins their errors.
func joinClose(a, b func() error) func() error {
	return func() error {
		errA := a()
		return errors.Join(errA, b())
	}
}

// Requeue sends a poisoned message back through its route.
func (st *Adapters) Requeue(ctx context.Context, id string) (ports.PoisonedMessage, error) {
	return router.Requeue(ctx, st.Poison, st.Broker.Publisher, id)
}

// brokerPool is the pool of the Postgres broker: the store's own, or a
// second one on --broker-postgres-url, closed with the stack. The broker's
// tables are created lazily, so it may be down when the service starts.
func brokerPool(ctx context.Context, cfg Config, store *pgxpool.Pool, st *Adapters) (*pgxpool.Pool, error) {
	if cfg.Reliability.BrokerPostgresURL == "" {
		return store, nil
	}
	pool, err := pgxpool.New(ctx, cfg.Reliability.BrokerPostgresURL)
	if err != nil {
		return nil, fmt.Errorf("--broker-postgres-url: %w", err)
	}
	st.close = joinClose(func() error { pool.Close(); return nil }, st.close)
	return pool, nil
}
