package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/redisinbox"
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/decorator"
	"github.com/orderflow/orderflow/router"
	goredis "github.com/redis/go-redis/v9"
)

// routerReliability chooses the middleware stores of the router: the poison
// queue always in the event store's database, deduplication as configured.
// The returned close releases what it opened (a Redis client).
func routerReliability(cfg Config, st *stack) (router.Reliability, func() error, error) {
	rel := router.Reliability{Poison: st.poison, DedupRetention: cfg.Reliability.DedupRetention}
	closer := func() error { return nil }
	switch cfg.Reliability.Dedup {
	case "store":
		rel.Dedup = st.inbox
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

// admin builds the admin use cases on the stack: the poison queue (requeue
// through the broker's publisher) and the projection rebuild.
func (st *stack) admin(logger *slog.Logger, metrics decorator.MetricsClient) app.Admin {
	return app.NewAdmin(app.AdminDeps{Poison: st.poison, Republisher: router.PoisonRepublisher{Publisher: st.broker.Publisher},
		Events: st.events, Orders: st.orders, Shadow: st.shadow, Checkpoints: st.cps, Logger: logger, Metrics: metrics})
}

// brokerPool is the pool of the Postgres broker: the store's own, or a
// second one on --broker-postgres-url, closed with the stack. The broker's
// tables are created lazily, so it may be down when the service starts.
func brokerPool(ctx context.Context, cfg Config, store *pgxpool.Pool, st *stack) (*pgxpool.Pool, error) {
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
